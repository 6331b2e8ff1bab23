"""Work items over GraphQL, through the MCP SDK client (alice by default).

The seed (tests/gitlab_sim/areas/work_items.py): the public group acme (alice maintainer, bob no member)
has epic &1 "Q3 launch", parent of acme/app#1; acme/app#1 relates to #2 and is blocked by #3 (issue
links), and has bob's and alice's comments (tests/gitlab_sim/areas/issues/). bob/secret is hidden
from alice.
"""

from __future__ import annotations

from typing import Any

APP = {"namespace": "acme/app"}


def ok(result: Any) -> Any:
    assert not result.is_error, result
    return result.structured_content


def graphql_sent(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["path"] == "/api/graphql"]


async def test_get_an_issue_as_a_work_item_with_parent_and_links(mcp, sim):
    item = ok(await mcp.call("get_work_item", **APP, iid=1))
    assert (item["type"], item["title"], item["state"], item["author"]) == (
        "Issue",
        "Login fails with SSO",
        "OPEN",
        "alice",
    )
    assert item["id"].startswith("gid://gitlab/WorkItem/") and item["iid"] == "1"
    assert item["description"] == "SAML sign-in loops back to the login page."
    assert item["parent"]["title"] == "Q3 launch"
    assert [(link["link_type"], link["iid"]) for link in item["linked_items"]] == [
        ("relates_to", "2"),
        ("is_blocked_by", "3"),
    ]
    assert [r["method"] for r in graphql_sent(sim)] == ["POST"]


async def test_get_an_epic_of_a_group_with_its_children(mcp):
    epic = ok(await mcp.call("get_work_item", namespace="acme", iid=1))
    assert (epic["type"], epic["title"], epic["parent"]) == ("Epic", "Q3 launch", None)
    assert [(c["title"], c["type"]) for c in epic["children"]] == [("Login fails with SSO", "Issue")]


async def test_get_a_missing_or_hidden_work_item_says_not_found(mcp, text_of):
    missing = await mcp.call("get_work_item", **APP, iid=999)
    assert missing.is_error and "Work item #999 in acme/app not found or you have no access" in text_of(missing)
    hidden = await mcp.call("get_work_item", namespace="bob/secret", iid=1)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)


async def test_list_filters_by_type_state_and_text_and_pages_with_a_cursor(mcp):
    first = ok(await mcp.call("list_work_items", **APP, first=5))
    assert [i["iid"] for i in first["items"]] == ["24", "23", "22", "21", "19"]  # open ones, newest first
    second = ok(await mcp.call("list_work_items", **APP, first=5, after=first["next_cursor"]))
    assert [i["iid"] for i in second["items"]] == ["18", "17", "16", "14", "13"]
    closed = ok(await mcp.call("list_work_items", **APP, state="closed", search="rate limit"))
    assert [(i["iid"], i["state"]) for i in closed["items"]] == [("20", "CLOSED")]
    tasks = ok(await mcp.call("list_work_items", **APP, types=["TASK"]))
    assert tasks == {"items": [], "next_cursor": None}
    epics = ok(await mcp.call("list_work_items", namespace="acme", types=["EPIC"]))
    assert [(i["type"], i["title"]) for i in epics["items"]] == [("Epic", "Q3 launch")] and epics["next_cursor"] is None


async def test_list_of_a_hidden_namespace_says_not_found(mcp, text_of):
    hidden = await mcp.call("list_work_items", namespace="labs")
    assert hidden.is_error and "Namespace labs not found or you have no access" in text_of(hidden)


async def test_an_epic_needs_a_reporter_of_the_group(mcp_as, text_of):
    refused = await mcp_as("bob").call("create_work_item", namespace="acme", type="EPIC", title="Bob's epic")
    assert refused.is_error and "you don't have permission to perform this action" in text_of(refused)


async def test_create_a_task_under_an_issue_and_it_shows_in_rest_too(mcp):
    parent = ok(await mcp.call("get_work_item", **APP, iid=2))
    task = ok(
        await mcp.call(
            "create_work_item",
            **APP,
            type="TASK",
            title="Write the flag",
            description="Behind `DARK_MODE`.",
            parent_id=parent["id"],
        )
    )
    assert (task["type"], task["title"], task["description"], task["parent"]["iid"]) == (
        "Task",
        "Write the flag",
        "Behind `DARK_MODE`.",
        "2",
    )
    assert [c["title"] for c in ok(await mcp.call("get_work_item", **APP, iid=2))["children"]] == ["Write the flag"]
    rest = ok(await mcp.call("get_issue", project="acme/app", iid=int(task["iid"])))
    assert rest["issue_type"] == "task"


async def test_create_refuses_a_wrong_parent_a_blank_title_and_an_epic_in_a_project(mcp, text_of):
    epic = ok(await mcp.call("get_work_item", namespace="acme", iid=1))
    wrong = await mcp.call("create_work_item", **APP, type="TASK", title="x", parent_id=epic["id"])
    assert wrong.is_error and "Task cannot be added: is not allowed to add this type of parent" in text_of(wrong)
    blank = await mcp.call("create_work_item", **APP, type="ISSUE", title=" ")
    assert blank.is_error and "Title can't be blank" in text_of(blank)
    epic_here = await mcp.call("create_work_item", **APP, type="EPIC", title="Not here")
    assert epic_here.is_error and "has no EPIC work items" in text_of(epic_here)


async def test_update_closes_retitles_and_moves_to_another_parent(mcp):
    epic = ok(await mcp.call("create_work_item", namespace="acme", type="EPIC", title="Q4"))
    updated = ok(
        await mcp.call(
            "update_work_item", **APP, iid=1, title="SSO login loop", state_event="close", parent_id=epic["id"]
        )
    )
    assert (updated["title"], updated["state"], updated["parent"]["title"]) == ("SSO login loop", "CLOSED", "Q4")
    removed = ok(await mcp.call("update_work_item", **APP, iid=1, parent_id="", state_event="reopen"))
    assert (removed["parent"], removed["state"]) == (None, "OPEN")


async def test_update_by_someone_without_the_right_says_so(mcp_as, text_of):
    refused = await mcp_as("charlie").call("update_work_item", namespace="acme", iid=1, title="Mine now")
    assert refused.is_error
    assert "GitLab's GraphQL API refused Work item #1 in acme: The resource that you are attempting" in text_of(refused)


async def test_notes_list_and_reply_in_a_thread(mcp):
    threads = ok(await mcp.call("list_work_item_notes", **APP, iid=1))["items"]
    assert [t["notes"][0]["author"] for t in threads] == ["bob", "alice", "alice"]  # no system note
    reply = ok(
        await mcp.call("create_work_item_note", **APP, iid=1, body="Fixed on staging.", discussion_id=threads[0]["id"])
    )
    assert (reply["author"], reply["body"], reply["discussion_id"]) == ("alice", "Fixed on staging.", threads[0]["id"])
    again = ok(await mcp.call("list_work_item_notes", **APP, iid=1))["items"]
    assert [n["body"] for n in again[0]["notes"]] == ["I can reproduce this on staging.", "Fixed on staging."]
    new = ok(await mcp.call("create_work_item_note", namespace="acme", iid=1, body="Kick-off on Monday."))
    assert new["discussion_id"].startswith("gid://gitlab/Discussion/")


async def test_a_blank_note_is_refused_by_gitlab(mcp, text_of):
    blank = await mcp.call("create_work_item_note", **APP, iid=1, body=" ")
    assert blank.is_error and "Note can't be blank" in text_of(blank)


async def test_link_and_unlink_work_items(mcp):
    four = ok(await mcp.call("get_work_item", **APP, iid=4))
    linked = ok(await mcp.call("link_work_items", **APP, iid=5, targets=[four["id"]], link_type="BLOCKS"))
    assert [(k["link_type"], k["iid"]) for k in linked["linked_items"]] == [("blocks", "4")]
    rest = ok(await mcp.call("list_issue_links", project="acme/app", iid=4))["items"]
    assert [(k["iid"], k["link_type"]) for k in rest] == [(5, "is_blocked_by")]
    unlinked = ok(await mcp.call("unlink_work_items", **APP, iid=5, targets=[four["id"]]))
    assert unlinked["linked_items"] == []


async def test_link_to_an_unknown_item_is_refused(mcp, text_of):
    refused = await mcp.call("link_work_items", **APP, iid=5, targets=["gid://gitlab/WorkItem/999999"])
    assert refused.is_error and "No matching work item found" in text_of(refused)


async def test_read_only_mode_serves_the_reads_and_sends_queries(mcp_with, sim):
    server = mcp_with(GITLAB_READ_ONLY_MODE=True, GITLAB_TOOLSETS=["work_items"])
    async with server.connect() as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"get_work_item", "list_work_items", "list_work_item_notes"}
        result = await client.call_tool("get_work_item", {"namespace": "acme/app", "iid": 1})
    assert not result.is_error and result.structured_content["iid"] == "1"  # a query is a read, though a POST
