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


async def test_get_current_user_with_a_revoked_token_is_a_readable_error(mcp_with, sim, text_of):
    server = mcp_with(token="glpat-revoked-000000000000000")
    result = await server.call("get_current_user")
    assert result.is_error
    assert "GitLab rejected the credentials" in text_of(result)
    assert "glpat-revoked" not in text_of(result)


# --- forks, languages, events, members (reads) ---------------------------------------------------
async def test_get_project_languages_measures_the_default_branch(mcp):
    result = await mcp.call("get_project_languages", project="acme/website")
    assert not result.is_error, result
    languages = result.structured_content["languages"]
    assert set(languages) == {"HTML", "CSS", "JavaScript"}
    assert abs(sum(languages.values()) - 100) < 0.1
    app = (await mcp.call("get_project_languages", project="101")).structured_content["languages"]
    assert list(app) == ["Python", "Shell"]  # largest first; Markdown is prose, not code


async def test_get_project_languages_of_a_hidden_project(mcp, text_of):
    result = await mcp.call("get_project_languages", project="bob/secret")
    assert result.is_error
    assert "Project bob/secret not found or you have no access" in text_of(result)


async def test_list_project_events_filters_by_action_and_day(mcp):
    page = (await mcp.call("list_project_events", project="acme/app")).structured_content
    assert [e["id"] for e in page["items"]] == [9, 8, 7, 4, 3, 2, 1]  # newest first
    assert page["total"] == 7
    pushes = (await mcp.call("list_project_events", project="acme/app", action="pushed")).structured_content
    assert pushes["items"][0]["push_data"] == {
        "action": "created",
        "ref_type": "branch",
        "ref": "feature/login",
        "commit_count": 2,
        "commit_title": "Mention login in README",
    }
    assert pushes["items"][0]["author"] == "bob"
    comments = await mcp.call("list_project_events", project="acme/app", target_type="note", before="2024-04-02")
    [note] = comments.structured_content["items"]
    assert note["note"]["body"] == "Root cause: the SAML certificate expired."
    late = await mcp.call("list_project_events", project="acme/app", after="2024-04-24")
    assert [e["target_title"] for e in late.structured_content["items"]] == ["Archive old projects automatically"]


async def test_list_project_events_rejects_an_unknown_action(mcp, text_of):
    result = await mcp.call("list_project_events", project="acme/app", action="exploded")
    assert result.is_error
    assert "action" in text_of(result)


async def test_list_project_members_direct_and_inherited(mcp):
    result = await mcp.call("list_project_members", project="acme/app")
    assert not result.is_error, result
    members = result.structured_content["items"]
    assert [(m["username"], m["access_level"]) for m in members] == [("alice", 40), ("bob", 30)]
    assert set(members[0]) == {"id", "username", "name", "state", "access_level", "expires_at", "created_at"}
    only_bob = await mcp.call("list_project_members", project="acme/app", query="Builder", inherited=False)
    assert [m["username"] for m in only_bob.structured_content["items"]] == ["bob"]


async def test_list_project_members_of_a_hidden_project(mcp, text_of):
    result = await mcp.call("list_project_members", project="104")
    assert result.is_error
    assert "Project 104 not found or you have no access" in text_of(result)


async def test_list_project_forks_is_empty_until_someone_forks(mcp, mcp_as):
    assert (await mcp.call("list_project_forks", project="acme/website")).structured_content["items"] == []
    fork = await mcp_as("charlie").call("fork_project", project="acme/website")
    assert not fork.is_error, fork
    forks = (await mcp.call("list_project_forks", project="acme/website")).structured_content
    assert [f["path_with_namespace"] for f in forks["items"]] == ["charlie/website"]


async def test_list_project_forks_of_a_hidden_project(mcp, text_of):
    result = await mcp.call("list_project_forks", project="bob/secret")
    assert result.is_error
    assert "not found or you have no access" in text_of(result)
