"""list_projects: only fields GitLab's `simple` view returns, and keyset pagination past GitLab's 50,000-row
limit on offset pages. Alice sees acme/app (101), acme/website (102), alice/notes (103) as a member."""

from __future__ import annotations

from mcp_bridge.tools.projects import SIMPLE_LIST_FIELDS


async def test_every_field_shown_is_one_gitlab_returns(mcp):
    page = (await mcp.call("list_projects", membership=False)).structured_content
    assert page["items"]
    for project in page["items"]:
        # A field GitLab's simple view never sends (as `archived`) would be missing here.
        assert set(project) == set(SIMPLE_LIST_FIELDS), project
    assert "archived" not in SIMPLE_LIST_FIELDS


async def test_past_the_offset_limit_gitlab_refuses_and_the_error_says_what_to_do(mcp, text_of):
    result = await mcp.call("list_projects", page=501, per_page=100)
    assert result.is_error
    text = text_of(result)
    assert "HTTP 405" in text and "maximum allowed offset of 50000" in text
    assert "pagination='keyset'" in text
    below = await mcp.call("list_projects", page=500, per_page=100)
    assert not below.is_error and below.structured_content["items"] == []


async def test_keyset_pages_walk_every_project_by_id(mcp, sim):
    seen, cursor, pages = [], None, 0
    while True:
        args = {"cursor": cursor} if cursor else {"pagination": "keyset"}
        result = await mcp.call("list_projects", per_page=1, **args)
        assert not result.is_error, result
        page = result.structured_content
        seen += [p["id"] for p in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            break
        assert cursor == f"id_before={seen[-1]}"
    assert seen == [103, 102, 101] and pages == 3
    sent = [r["query"] for r in sim.requests() if r["path"] == "/api/v4/projects"]
    assert all(
        "pagination=keyset" in q and "order_by=id" in q and "page=" not in q.replace("per_page", "") for q in sent
    )


async def test_a_cursor_that_is_not_one_is_refused_before_sending(mcp, sim, text_of):
    result = await mcp.call("list_projects", cursor="page=7&private_token=x")
    assert result.is_error and "next_cursor of a keyset page" in text_of(result)
    assert not [r for r in sim.requests() if r["path"] == "/api/v4/projects"]


async def test_group_lists_past_the_offset_limit_say_to_narrow(mcp, sim, text_of):
    # GitLab offers keyset pagination on /groups to anonymous callers only (doc/api/groups.md#list-groups),
    # so past the limit the way on is a narrower list.
    limit = (
        "Offset pagination has a maximum allowed offset of 50000 for requests that return objects of type Group. "
        "Remaining records can be retrieved using keyset pagination."
    )
    sim.fault(r"^/api/v4/groups$", status=405, body={"error": limit}, times=1)
    groups = await mcp.call("list_groups", page=501, per_page=100)
    assert groups.is_error and "maximum allowed offset of 50000" in text_of(groups) and "Narrow" in text_of(groups)
    sim.fault(r"/groups/acme/projects$", status=405, body={"error": limit.replace("Group", "Project")}, times=1)
    projects = await mcp.call("list_group_projects", group="acme", page=501, per_page=100)
    assert projects.is_error and "Narrow the list" in text_of(projects)
    fine = await mcp.call("list_groups")
    assert not fine.is_error
