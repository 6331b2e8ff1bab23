"""Issue threads and deleting issue notes, through the MCP SDK client (alice by default).

The seed (tests/gitlab_sim/areas/issues/, issue_discussions.py): acme/app#1 has bob's comment, a system
note, alice's comment and alice's internal note; acme/app#4 (author bob) has an open thread by bob with
alice's reply. charlie is no member of acme/app; acme/website is public (alice owns it).
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.seed import TOKENS

APP = {"project": "acme/app"}


def ok(result: Any) -> Any:
    assert not result.is_error, result
    return result.structured_content


async def threads(mcp: Any, iid: int, project: str = "acme/app") -> list[dict[str, Any]]:
    return ok(await mcp.call("list_issue_discussions", project=project, iid=iid))["items"]


async def test_the_thread_tools_carry_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    assert tools["list_issue_discussions"].annotations.read_only_hint is True
    assert tools["delete_issue_note"].annotations.destructive_hint is True
    assert tools["reply_to_issue_discussion"].input_schema["required"] == ["project", "iid", "discussion_id", "body"]


async def test_list_gives_threads_and_single_comments_without_system_notes(mcp):
    thread = (await threads(mcp, 4))[0]
    assert (thread["individual_note"], thread["resolved"]) == (False, False)
    assert [(n["author"], n["body"]) for n in thread["notes"]] == [
        ("bob", "Which columns go in the CSV?"),
        ("alice", "Those of the table view."),
    ]
    single = await threads(mcp, 1)
    assert [t["notes"][0]["author"] for t in single] == ["bob", "alice", "alice"]  # the system note is left out
    assert all(t["individual_note"] and "resolved" not in t for t in single)
    assert [t["notes"][0].get("internal", False) for t in single] == [False, False, True]  # "Customer is Initech."


async def test_list_on_a_missing_or_hidden_issue_says_not_found(mcp, text_of):
    missing = await mcp.call("list_issue_discussions", **APP, iid=99)
    assert missing.is_error and "Issue #99 in acme/app not found or you have no access: 404 Issue Not Found" in text_of(
        missing
    )
    hidden = await mcp.call("list_issue_discussions", project="bob/secret", iid=1)
    assert hidden.is_error and "404 Project Not Found" in text_of(hidden)


async def test_start_reply_and_resolve_a_thread(mcp):
    started = ok(await mcp.call("create_issue_thread", **APP, iid=2, body="Behind a flag?"))
    assert (started["individual_note"], started["resolved"], started["notes"][0]["body"]) == (
        False,
        False,
        "Behind a flag?",
    )
    reply = ok(await mcp.call("reply_to_issue_discussion", **APP, iid=2, discussion_id=started["id"], body="Yes."))
    assert (reply["author"], reply["body"], reply["resolved"]) == ("alice", "Yes.", False)
    done = ok(await mcp.call("resolve_issue_discussion", **APP, iid=2, discussion_id=started["id"]))
    assert done["resolved"] is True and {n["resolved_by"] for n in done["notes"]} == {"alice"}
    again = ok(await mcp.call("resolve_issue_discussion", **APP, iid=2, discussion_id=started["id"], resolved=False))
    assert again["resolved"] is False
    assert [len(t["notes"]) for t in await threads(mcp, 2)] == [2]


async def test_replying_to_a_single_comment_turns_it_into_a_thread(mcp):
    comment = (await threads(mcp, 1))[0]
    ok(await mcp.call("reply_to_issue_discussion", **APP, iid=1, discussion_id=comment["id"], body="Same here."))
    thread = (await threads(mcp, 1))[0]
    assert (thread["id"], thread["individual_note"], thread["resolved"]) == (comment["id"], False, False)
    assert [n["body"] for n in thread["notes"]] == ["I can reproduce this on staging.", "Same here."]


async def test_reply_to_an_unknown_thread_or_with_an_empty_body_fails(mcp, text_of):
    unknown = await mcp.call("reply_to_issue_discussion", **APP, iid=4, discussion_id="f" * 40, body="Hi")
    assert unknown.is_error and "404 Discussion Not Found" in text_of(unknown)
    empty = await mcp.call("reply_to_issue_discussion", **APP, iid=4, discussion_id="f" * 40, body="")
    assert empty.is_error and "body" in text_of(empty)
    dots = await mcp.call("reply_to_issue_discussion", **APP, iid=4, discussion_id="..", body="Hi")
    assert dots.is_error and "'discussion_id'" in text_of(dots)


async def test_a_single_comment_cannot_be_resolved(mcp, text_of):
    comment = (await threads(mcp, 1))[0]
    refused = await mcp.call("resolve_issue_discussion", **APP, iid=1, discussion_id=comment["id"])
    assert refused.is_error and "403 Forbidden" in text_of(refused)


async def test_a_non_member_may_comment_in_a_public_project_but_not_resolve(mcp_as, text_of):
    charlie = mcp_as("charlie")
    started = ok(await charlie.call("create_issue_thread", project="acme/website", iid=1, body="Typo in the title too"))
    refused = await charlie.call("resolve_issue_discussion", project="acme/website", iid=1, discussion_id=started["id"])
    assert refused.is_error
    assert "You do not have permission for this on Thread" in text_of(refused) and "403 Forbidden" in text_of(refused)


async def test_delete_your_own_note_and_not_someone_elses(mcp, mcp_as, text_of):
    mine, bobs = (await threads(mcp, 1))[1]["notes"][0], (await threads(mcp, 1))[0]["notes"][0]
    assert ok(await mcp.call("delete_issue_note", **APP, iid=1, note_id=mine["id"])) == {
        "deleted": True,
        "note_id": mine["id"],
    }
    assert mine["id"] not in [t["notes"][0]["id"] for t in await threads(mcp, 1)]
    refused = await mcp_as("bob").call(
        "delete_issue_note", **APP, iid=1, note_id=(await threads(mcp, 1))[1]["notes"][0]["id"]
    )
    assert refused.is_error and "403 Forbidden" in text_of(refused)
    missing = await mcp.call("delete_issue_note", **APP, iid=1, note_id=999999)
    assert missing.is_error and "Note 999999 on Issue #1 in acme/app not found" in text_of(missing)
    assert bobs["id"] in [t["notes"][0]["id"] for t in await threads(mcp, 1)]


async def test_read_only_mode_hides_the_thread_writes(mcp_with, sim):
    server = mcp_with(GITLAB_READ_ONLY_MODE=True)
    async with server.connect() as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert "list_issue_discussions" in names
    assert not names & {
        "create_issue_thread",
        "reply_to_issue_discussion",
        "resolve_issue_discussion",
        "delete_issue_note",
    }


def test_the_simulator_keeps_thread_ids_out_of_the_notes_api(sim):
    headers = {"PRIVATE-TOKEN": TOKENS["alice"]}
    base = f"{sim.url}/api/v4/projects/acme%2Fapp/issues/4"
    notes = sim.http.get(f"{base}/notes", headers=headers).json()
    assert notes and not any(key.startswith("_") for note in notes for key in note)
    thread = sim.http.get(f"{base}/discussions", headers=headers).json()[0]
    assert len(thread["id"]) == 40 and thread["notes"][0]["type"] == "DiscussionNote"
    blank = sim.http.put(f"{base}/discussions/{thread['id']}", headers=headers, json={})
    assert (blank.status_code, blank.json()) == (400, {"error": "resolved is missing"})
