"""Changing issues, their links and comments, and the merge requests of an issue, through the MCP SDK
client (alice by default; bob and charlie where permissions matter).

The seed (tests/gitlab_sim/areas/issues/): alice maintains acme/app (bob: developer) and owns
acme/website. acme/app#1 relates to #2, is blocked by #3 and relates to bob/secret#1 (hidden from alice);
its first note is bob's, its second a system note, its third alice's. acme/app !1 has bob's comment
mentioning #1; !2 says "Closes #3."
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.seed import TOKENS

APP = "acme/app"


def ok(result: Any) -> Any:
    assert not result.is_error, result
    return result.structured_content


async def issue(mcp: Any, iid: int, project: str = APP) -> dict[str, Any]:
    return ok(await mcp.call("get_issue", project=project, iid=iid))


async def notes(mcp: Any, iid: int, project: str = APP) -> list[dict[str, Any]]:
    return ok(await mcp.call("list_issue_notes", project=project, iid=iid, per_page=100))["items"]


async def test_the_issue_write_tools_carry_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    for name in ("delete_issue", "delete_issue_link"):
        assert tools[name].annotations.destructive_hint is True
    for name in ("list_issue_links", "list_issue_related_merge_requests", "list_issue_closed_by_merge_requests"):
        assert tools[name].annotations.read_only_hint is True
    assert tools["update_issue"].input_schema["required"] == ["project", "iid"]


# --- update_issue ------------------------------------------------------------------------------
async def test_update_issue_closes_relabels_and_reassigns(mcp):
    updated = await mcp.call(
        "update_issue",
        project=APP,
        iid=2,
        state_event="close",
        add_labels=["ui"],
        assignee_ids=[1, 2],
        due_date="2024-09-01",
    )
    assert (ok(updated)["state"], ok(updated)["closed_by"], ok(updated)["labels"]) == (
        "closed",
        "alice",
        ["feature", "ui"],
    )
    assert (ok(updated)["assignees"], ok(updated)["due_date"]) == (["alice", "bob"], "2024-09-01")
    assert [(n["body"], n["system"]) for n in await notes(mcp, 2)] == [("closed", True)]
    assert ok(await mcp.call("get_project", project=APP))["open_issues_count"] == 19
    reopened = ok(await mcp.call("update_issue", project=APP, iid=2, state_event="reopen", remove_labels=["feature"]))
    assert (reopened["state"], reopened["closed_by"], reopened["labels"]) == ("opened", None, ["ui"])


async def test_update_issue_clears_labels_milestone_and_due_date(mcp):
    before = await issue(mcp, 3)
    assert (before["labels"], before["milestone"]["title"], before["due_date"]) == (
        ["bug", "critical"],
        "v1.0",
        "2024-06-03",
    )
    after = ok(await mcp.call("update_issue", project=APP, iid=3, labels=[], milestone_id=0, due_date=""))
    assert (after["labels"], after["milestone"], after["due_date"]) == ([], None, None)
    titled = ok(await mcp.call("update_issue", project=APP, iid=3, title="Avatar crash", confidential=True))
    assert (titled["title"], titled["confidential"], titled["labels"]) == ("Avatar crash", True, [])


async def test_update_issue_needs_a_change_and_access(mcp, text_of):
    nothing = await mcp.call("update_issue", project=APP, iid=2)
    assert nothing.is_error and "at least one parameter must be provided" in text_of(nothing)
    hidden = await mcp.call("update_issue", project="bob/secret", iid=1, title="Mine now")
    assert hidden.is_error and "Issue #1 in bob/secret not found or you have no access" in text_of(hidden)


async def test_charlie_edits_his_own_issue_but_not_others(mcp_as, text_of):
    charlie = mcp_as("charlie")
    created = ok(await charlie.call("create_issue", project="acme/website", title="Contrast too low"))
    edited = await charlie.call(
        "update_issue", project="acme/website", iid=created["iid"], title="Low contrast", labels=["a11y"]
    )
    assert (ok(edited)["title"], ok(edited)["labels"]) == ("Low contrast", [])  # labels need reporter
    refused = await charlie.call("update_issue", project="acme/website", iid=1, state_event="close")
    assert refused.is_error and "403 Forbidden" in text_of(refused)


# --- delete_issue ------------------------------------------------------------------------------
async def test_delete_issue_as_the_project_owner(mcp, text_of):
    assert ok(await mcp.call("delete_issue", project="acme/website", iid=1)) == {"deleted": True, "iid": 1}
    gone = await mcp.call("get_issue", project="acme/website", iid=1)
    assert gone.is_error and "not found" in text_of(gone)


async def test_delete_issue_needs_the_owner_role(mcp, text_of):
    result = await mcp.call("delete_issue", project=APP, iid=2)  # alice is a maintainer there
    assert result.is_error and "You do not have permission for this on Issue #2 in acme/app" in text_of(result)
    assert (await issue(mcp, 2))["state"] == "opened"


# --- move_issue --------------------------------------------------------------------------------
async def test_move_issue_to_another_project_by_path(mcp):
    moved = ok(await mcp.call("move_issue", project=APP, iid=1, to_project="acme/website"))
    assert (moved["reference"], moved["title"], moved["author"]) == ("acme/website#4", "Login fails with SSO", "alice")
    assert (moved["project_id"], moved["state"], moved["milestone"]) == (102, "opened", None)
    original = await issue(mcp, 1)
    assert original["state"] == "closed" and original["closed_by"] == "alice"
    bodies = [n["body"] for n in await notes(mcp, 4, "acme/website")]
    assert bodies[0] == "I can reproduce this on staging." and bodies[-1] == "moved from acme/app#1"
    assert (await notes(mcp, 1))[-1]["body"] == "moved to acme/website#4"


async def test_move_issue_errors_are_gitlabs(mcp, mcp_as, text_of):
    same = await mcp.call("move_issue", project=APP, iid=2, to_project="101")
    assert same.is_error and "Cannot move issue to project it originates from!" in text_of(same)
    hidden = await mcp.call("move_issue", project=APP, iid=2, to_project="bob/secret")
    assert hidden.is_error and "Project bob/secret not found or you have no access" in text_of(hidden)
    outsider = await mcp_as("bob").call("move_issue", project=APP, iid=2, to_project="102")
    assert outsider.is_error and "Cannot move issue due to insufficient permissions!" in text_of(outsider)
    assert (await issue(mcp, 2))["state"] == "opened"


# --- update_issue_note -------------------------------------------------------------------------
async def test_update_issue_note_edits_your_own_note(mcp):
    mine = (await notes(mcp, 1))[2]
    note = ok(
        await mcp.call("update_issue_note", project=APP, iid=1, note_id=mine["id"], body="Root cause: expired cert.")
    )
    assert (note["id"], note["author"], note["body"]) == (mine["id"], "alice", "Root cause: expired cert.")
    assert (await notes(mcp, 1))[2]["body"] == "Root cause: expired cert."


async def test_update_issue_note_of_someone_else_or_a_system_note_is_forbidden(mcp, mcp_as, text_of):
    alices, system = (await notes(mcp, 1))[2], (await notes(mcp, 1))[1]
    by_bob = await mcp_as("bob").call("update_issue_note", project=APP, iid=1, note_id=alices["id"], body="Nope")
    assert by_bob.is_error and f"Note {alices['id']} on issue #1 in acme/app: 403 Forbidden" in text_of(by_bob)
    by_alice = await mcp.call("update_issue_note", project=APP, iid=1, note_id=system["id"], body="Edited")
    assert by_alice.is_error and "403" in text_of(by_alice)
    missing = await mcp.call("update_issue_note", project=APP, iid=1, note_id=999999, body="x")
    assert missing.is_error and "not found" in text_of(missing)


# --- issue links -------------------------------------------------------------------------------
async def test_list_issue_links_hides_what_you_cannot_see(mcp, mcp_as):
    links = ok(await mcp.call("list_issue_links", project=APP, iid=1))["items"]
    assert [(k["reference"], k["link_type"]) for k in links] == [
        ("acme/app#2", "relates_to"),
        ("acme/app#3", "is_blocked_by"),
    ]
    assert all(isinstance(k["issue_link_id"], int) for k in links)
    bobs = ok(await mcp_as("bob").call("list_issue_links", project=APP, iid=1))["items"]
    assert [k["reference"] for k in bobs][-1] == "bob/secret#1"
    reverse = ok(await mcp.call("list_issue_links", project=APP, iid=3))["items"]
    assert [(k["reference"], k["link_type"]) for k in reverse] == [("acme/app#1", "blocks")]


async def test_list_issue_links_of_a_missing_issue_says_not_found(mcp, text_of):
    result = await mcp.call("list_issue_links", project=APP, iid=999)
    assert result.is_error and "Issue #999 in acme/app not found or you have no access" in text_of(result)


async def test_create_and_delete_an_issue_link(mcp):
    created = ok(await mcp.call("create_issue_link", project=APP, iid=4, target_issue_iid=1, link_type="blocks"))
    assert created["link_type"] == "blocks"
    assert (created["source_issue"]["iid"], created["target_issue"]["iid"]) == (4, 1)
    cross = await mcp.call("create_issue_link", project=APP, iid=4, target_project="acme/website", target_issue_iid=1)
    assert ok(cross)["target_issue"]["project_id"] == 102
    links = ok(await mcp.call("list_issue_links", project=APP, iid=1))["items"]
    link = next(k for k in links if k["reference"] == "acme/app#4")
    assert link["link_type"] == "is_blocked_by"
    gone = ok(await mcp.call("delete_issue_link", project=APP, iid=1, issue_link_id=link["issue_link_id"]))
    assert gone == {"deleted": True, "issue_link_id": link["issue_link_id"]}
    assert len(ok(await mcp.call("list_issue_links", project=APP, iid=1))["items"]) == 2


async def test_issue_link_errors(mcp, mcp_as, text_of):
    twice = await mcp.call("create_issue_link", project=APP, iid=1, target_issue_iid=2)
    assert twice.is_error and "HTTP 409" in text_of(twice) and "already assigned" in text_of(twice)
    hidden = await mcp.call("create_issue_link", project=APP, iid=1, target_project="bob/secret", target_issue_iid=1)
    assert hidden.is_error and "404 Project Not Found" in text_of(hidden)
    outsider = await mcp_as("charlie").call("create_issue_link", project="acme/website", iid=1, target_issue_iid=3)
    assert outsider.is_error and "Guest role in both projects" in text_of(outsider)
    missing = await mcp.call("delete_issue_link", project=APP, iid=1, issue_link_id=999999)
    assert missing.is_error and "Link 999999 of issue #1 not found" in text_of(missing)


# --- merge requests of an issue ----------------------------------------------------------------
async def test_related_and_closing_merge_requests(mcp):
    related = ok(await mcp.call("list_issue_related_merge_requests", project=APP, iid=1))
    assert [(mr["iid"], mr["title"], mr["author"]) for mr in related["items"]] == [(1, "Add a login page", "bob")]
    assert related["total"] == 1
    assert [
        mr["iid"] for mr in ok(await mcp.call("list_issue_related_merge_requests", project=APP, iid=3))["items"]
    ] == [2]
    closing = ok(await mcp.call("list_issue_closed_by_merge_requests", project=APP, iid=3))["items"]
    assert [(mr["iid"], mr["state"]) for mr in closing] == [(2, "merged")]
    assert ok(await mcp.call("list_issue_closed_by_merge_requests", project=APP, iid=1))["items"] == []


async def test_merge_requests_of_a_hidden_issue_say_not_found(mcp, text_of):
    for name in ("list_issue_related_merge_requests", "list_issue_closed_by_merge_requests"):
        result = await mcp.call(name, project="bob/secret", iid=1)
        assert result.is_error and "Issue #1 in bob/secret not found or you have no access" in text_of(result)


def test_the_simulator_answers_raw_issue_requests_as_gitlab_does(sim):
    """What the tools never send still gets GitLab's answers (lib/api/issues.rb, lib/api/issue_links.rb)."""
    api, auth = f"{sim.url}/api/v4/projects/acme%2Fwebsite/issues", {"PRIVATE-TOKEN": TOKENS["alice"]}
    nothing = sim.http.put(f"{api}/1", json={}, headers=auth)
    assert nothing.status_code == 400 and nothing.json()["error"].endswith("at least one parameter must be provided")
    assert sim.http.post(f"{api}/1/move", json={}, headers=auth).json() == {"error": "to_project_id is missing"}
    bad_type = sim.http.post(
        f"{api}/1/links", json={"target_project_id": 102, "target_issue_iid": 3, "link_type": "x"}, headers=auth
    )
    assert bad_type.json() == {"error": "link_type does not have a valid value"}
    assert sim.http.delete(f"{api}/1", headers=auth).status_code == 204
