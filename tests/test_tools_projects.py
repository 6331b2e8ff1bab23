"""Tools of the projects and users areas, through the MCP SDK client (acting as alice)."""

from __future__ import annotations


async def test_list_projects_gives_alices_projects_with_pagination(mcp):
    result = await mcp.call("list_projects", per_page=2)
    assert not result.is_error
    page = result.structured_content
    paths = [p["path_with_namespace"] for p in page["items"]]
    assert len(paths) == 2
    assert page["total"] == 3 and page["next_page"] == 2 and page["page"] == 1
    rest = (await mcp.call("list_projects", per_page=2, page=2)).structured_content
    assert rest["next_page"] is None
    everything = paths + [p["path_with_namespace"] for p in rest["items"]]
    assert sorted(everything) == ["acme/app", "acme/website", "alice/notes"]


async def test_list_projects_searches_all_visible_projects(mcp):
    page = (await mcp.call("list_projects", search="secret", membership=False)).structured_content
    assert page["items"] == []  # bob/secret is private to bob
    page = (await mcp.call("list_projects", search="web", membership=False)).structured_content
    assert [p["path_with_namespace"] for p in page["items"]] == ["acme/website"]


async def test_list_projects_starred(mcp):
    page = (await mcp.call("list_projects", starred=True)).structured_content
    assert [p["path_with_namespace"] for p in page["items"]] == ["acme/website"]


async def test_list_projects_rejects_a_bad_page_size(mcp, text_of):
    result = await mcp.call("list_projects", per_page=500)
    assert result.is_error
    assert "per_page" in text_of(result)


async def test_get_project_by_path_and_by_id(mcp):
    by_path = (await mcp.call("get_project", project="acme/app")).structured_content
    assert by_path["id"] == 101
    assert by_path["namespace"] == "acme"
    assert by_path["permissions"]["project_access"]["access_level"] == 40
    by_id = (await mcp.call("get_project", project="101")).structured_content
    assert by_id["path_with_namespace"] == "acme/app"


async def test_get_project_hidden_from_alice_says_not_found_or_no_access(mcp, text_of):
    result = await mcp.call("get_project", project="bob/secret")
    assert result.is_error
    assert "Project bob/secret not found or you have no access" in text_of(result)


async def test_get_project_needs_a_project(mcp, text_of):
    result = await mcp.call("get_project")
    assert result.is_error
    assert "project" in text_of(result).lower()


async def test_get_current_user_is_alice(mcp):
    me = (await mcp.call("get_current_user")).structured_content
    assert me == {
        "id": 1,
        "username": "alice",
        "name": "Alice Liddell",
        "state": "active",
        "email": "alice@example.com",
        "web_url": "http://gitlab.sim/alice",
        "is_admin": False,
        "bot": False,
        "created_at": "2024-01-01T09:00:00.000Z",
    }


async def test_get_current_user_with_a_revoked_token_is_a_readable_error(start_server, sim, text_of):
    from tests.conftest import MCP

    server = start_server(GITLAB_TOKEN="glpat-revoked-000000000000000")
    result = await MCP(server.mcp_url).call("get_current_user")
    assert result.is_error
    assert "GitLab rejected the credentials" in text_of(result)
    assert "glpat-revoked" not in text_of(result)
