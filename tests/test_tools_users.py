"""Tools of the users toolset: profiles, user search, activity and the to-do list.

The seed (tests/gitlab_sim/areas/users.py): events 1-9 (bob's #6 is in bob/secret, hidden from alice);
alice's to-dos: #1 directly addressed, #3 review requested, #4 assigned (pending) and #2 (done); bob's: #5, #6.
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.seed import TOKENS


def items(result: Any) -> list[dict[str, Any]]:
    assert not result.is_error, result
    return result.structured_content["items"]


# --- get_user, list_users --------------------------------------------------------------------------
async def test_get_user_by_username_and_by_id(mcp):
    bob = await mcp.call("get_user", user="@bob")
    assert not bob.is_error, bob
    assert bob.structured_content == {
        "id": 2,
        "username": "bob",
        "name": "Bob Builder",
        "state": "active",
        "web_url": "http://gitlab.sim/bob",
        "bot": False,
        "created_at": "2024-01-02T09:00:00.000Z",
        "bio": "",
    }
    assert (await mcp.call("get_user", user="3")).structured_content["username"] == "charlie"


async def test_get_user_unknown(mcp, text_of):
    for ref in ("nobody", "999"):
        result = await mcp.call("get_user", user=ref)
        assert result.is_error
        assert f"User {ref} not found or you have no access" in text_of(result)


async def test_list_users_searches_names_and_usernames(mcp):
    assert [u["username"] for u in items(await mcp.call("list_users", search="builder"))] == ["bob"]
    everyone = await mcp.call("list_users", per_page=2)
    assert [u["username"] for u in items(everyone)] == ["charlie", "bob"]  # newest id first
    assert everyone.structured_content["next_page"] == 2
    assert set(items(everyone)[0]) == {"id", "username", "name", "state", "web_url"}  # no email


async def test_list_users_rejects_a_bad_page_size(mcp, text_of):
    result = await mcp.call("list_users", per_page=0)
    assert result.is_error
    assert "per_page" in text_of(result)


# --- list_user_events ------------------------------------------------------------------------------
async def test_list_user_events_shows_only_projects_you_can_see(mcp, mcp_as):
    assert [e["id"] for e in items(await mcp.call("list_user_events", user="bob"))] == [8, 3, 2]
    assert [e["id"] for e in items(await mcp_as("bob").call("list_user_events", user="2"))] == [8, 6, 3, 2]
    opened = items(await mcp.call("list_user_events", user="bob", action="created", target_type="merge_request"))
    assert opened == [
        {
            "id": 3,
            "project_id": 101,
            "action_name": "opened",
            "target_type": "MergeRequest",
            "target_iid": 1,
            "target_title": "Add a login page",
            "author": "bob",
            "created_at": "2024-04-01T10:00:00.000Z",
        }
    ]
    assert items(await mcp.call("list_user_events", user="charlie")) == []


async def test_list_user_events_of_an_unknown_user(mcp, text_of):
    result = await mcp.call("list_user_events", user="ghost")
    assert result.is_error
    assert "User ghost not found or you have no access" in text_of(result)


# --- to-dos ----------------------------------------------------------------------------------------
async def test_list_todos_gives_your_pending_items(mcp, mcp_as):
    todos = items(await mcp.call("list_todos"))
    assert [t["id"] for t in todos] == [4, 3, 1]
    assert todos[0] == {
        "id": 4,
        "action_name": "assigned",
        "target_type": "Issue",
        "target_url": "http://gitlab.sim/acme/app/-/issues/24",
        "author": "bob",
        "body": "Flaky test in the billing suite",
        "state": "pending",
        "created_at": "2024-04-24T10:05:00.000Z",
        "project": "acme/app",
        "target": {"iid": 24, "title": "Flaky test in the billing suite", "state": "opened"},
    }
    assert [t["id"] for t in items(await mcp.call("list_todos", state="done"))] == [2]
    assert [t["id"] for t in items(await mcp.call("list_todos", type="MergeRequest"))] == [3]
    assert [t["id"] for t in items(await mcp.call("list_todos", action="directly_addressed"))] == [1]
    assert [t["id"] for t in items(await mcp.call("list_todos", project_id=102))] == []
    assert [t["id"] for t in items(await mcp_as("bob").call("list_todos"))] == [6, 5]


async def test_list_todos_rejects_an_unknown_state(mcp, text_of):
    result = await mcp.call("list_todos", state="snoozed")
    assert result.is_error
    assert "state" in text_of(result)


async def test_mark_todo_done(mcp):
    done = await mcp.call("mark_todo_done", todo_id=1)
    assert not done.is_error, done
    assert (done.structured_content["id"], done.structured_content["state"]) == (1, "done")
    assert [t["id"] for t in items(await mcp.call("list_todos"))] == [4, 3]


async def test_mark_todo_done_of_someone_else(mcp, text_of):
    result = await mcp.call("mark_todo_done", todo_id=5)  # bob's
    assert result.is_error
    assert "To-do 5 not found or you have no access" in text_of(result)


async def test_mark_all_todos_done_clears_only_your_list(mcp, mcp_as):
    result = await mcp.call("mark_all_todos_done")
    assert not result.is_error, result
    assert result.structured_content == {"done": True}
    assert items(await mcp.call("list_todos")) == []
    assert [t["id"] for t in items(await mcp.call("list_todos", state="done"))] == [4, 3, 2, 1]
    assert len(items(await mcp_as("bob").call("list_todos"))) == 2


async def test_mark_all_todos_done_with_a_read_only_token(mcp_with, sim, text_of):
    result = await mcp_with(token=TOKENS["alice_read"]).call("mark_all_todos_done")
    assert result.is_error
    assert "api" in text_of(result)
