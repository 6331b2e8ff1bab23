"""Merge request threads, comments and draft notes, through the MCP SDK client (alice by default).

The seed (tests/gitlab_sim/areas/discussions/): acme/app !1 (author bob) has an open diff thread by
alice on app/login.py new line 4 with bob's reply, a resolved diff thread on app/auth.py (renamed from
app/session.py), bob's single comment and a system note; bob has a draft there. acme/website !1 has an
open thread by alice. The diff of acme/app !1 changes app/login.py: old line 3 removed, new lines 3-4 added.
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.seed import TOKENS

APP = {"project": "acme/app", "iid": 1}


def ok(result: Any) -> Any:
    assert not result.is_error, result
    return result.structured_content


async def threads(mcp: Any, **where: Any) -> list[dict[str, Any]]:
    return ok(await mcp.call("list_merge_request_discussions", **(where or APP)))["items"]


async def test_the_review_tools_carry_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    for name in ("list_merge_request_discussions", "list_draft_notes"):
        assert tools[name].annotations.read_only_hint is True
    assert tools["delete_merge_request_note"].annotations.destructive_hint is True
    assert tools["create_merge_request_thread"].input_schema["required"] == ["project", "iid", "body"]


# --- list_merge_request_discussions --------------------------------------------------------------
async def test_list_gives_threads_with_positions_and_resolution_without_system_notes(mcp):
    diff, done, comment = await threads(mcp)
    assert (diff["resolved"], diff["individual_note"]) == (False, False)
    assert [(n["author"], n["body"]) for n in diff["notes"]] == [
        ("alice", "Should `check` raise on bad input?"),
        ("bob", "It returns False; I'll add a docstring."),
    ]
    assert diff["notes"][0]["position"] == {
        "old_path": "app/login.py",
        "new_path": "app/login.py",
        "old_line": None,
        "new_line": 4,
    }
    assert (done["resolved"], done["notes"][0]["resolved_by"]) == (True, "bob")
    assert done["notes"][0]["position"]["old_path"] == "app/session.py"
    assert comment["individual_note"] is True and "resolved" not in comment
    assert set(comment["notes"][0]) == {"id", "author", "body", "created_at", "updated_at"}


async def test_list_of_a_missing_or_hidden_mr_says_not_found(mcp, text_of):
    missing = await mcp.call("list_merge_request_discussions", project="acme/app", iid=99)
    assert missing.is_error
    assert "Merge request !99 in acme/app not found or you have no access: 404 MergeRequest Not Found" in text_of(
        missing
    )
    hidden = await mcp.call("list_merge_request_discussions", project="bob/secret", iid=1)
    assert hidden.is_error and "404 Project Not Found" in text_of(hidden)


# --- create_merge_request_note / create_merge_request_thread --------------------------------------
async def test_create_note_posts_a_plain_comment(mcp):
    note = ok(await mcp.call("create_merge_request_note", **APP, body="LGTM once CI passes."))
    assert (note["author"], note["body"]) == ("alice", "LGTM once CI passes.")
    last = (await threads(mcp))[-1]
    assert last["individual_note"] is True and last["notes"][0]["id"] == note["id"]


async def test_create_note_fails_on_a_hidden_mr_or_an_empty_body(mcp, text_of):
    hidden = await mcp.call("create_merge_request_note", project="bob/secret", iid=1, body="Hi")
    assert hidden.is_error and "Merge request !1 in bob/secret not found" in text_of(hidden)
    empty = await mcp.call("create_merge_request_note", **APP, body="")
    assert empty.is_error and "body" in text_of(empty)
    assert len(await threads(mcp)) == 3


async def test_create_thread_on_the_overview_is_resolvable(mcp, sim):
    thread = ok(await mcp.call("create_merge_request_thread", **APP, body="Please split this MR."))
    assert (thread["resolved"], thread["individual_note"], len(thread["id"])) == (False, False, 40)
    assert [r["method"] for r in sim.requests()][-1:] == ["POST"]  # no diff_refs needed


async def test_create_thread_on_added_removed_and_renamed_lines(mcp, sim):
    added = ok(await mcp.call("create_merge_request_thread", **APP, body="Name?", new_path="app/login.py", new_line=3))
    assert added["notes"][0]["position"] == {
        "old_path": "app/login.py",
        "new_path": "app/login.py",
        "old_line": None,
        "new_line": 3,
    }
    get, post = sim.requests()[-2:]
    assert (get["method"], post["method"]) == ("GET", "POST")  # the tool fetched the MR's diff_refs itself
    removed = await mcp.call("create_merge_request_thread", **APP, body="Why?", old_path="app/login.py", old_line=3)
    assert ok(removed)["notes"][0]["position"]["old_line"] == 3
    renamed = await mcp.call("create_merge_request_thread", **APP, body="Ok", new_path="app/auth.py", new_line=1)
    assert ok(renamed)["notes"][0]["position"]["old_path"] == "app/session.py"
    assert len(await threads(mcp)) == 6


async def test_create_thread_on_a_line_outside_the_diff_is_refused(mcp, text_of):
    result = await mcp.call("create_merge_request_thread", **APP, body="Here", new_path="app/login.py", new_line=40)
    assert result.is_error
    text = text_of(result)
    assert "HTTP 400" in text and "must be a valid line code" in text and "get_merge_request_changes" in text
    both = await mcp.call(
        "create_merge_request_thread", **APP, body="x", new_path="app/login.py", new_line=3, old_line=3
    )
    assert both.is_error  # an added line has no old line
    assert len(await threads(mcp)) == 3


# --- reply_to_merge_request_discussion -----------------------------------------------------------
async def test_reply_adds_to_a_thread_and_turns_a_comment_into_one(mcp):
    diff, _, comment = await threads(mcp)
    note = ok(await mcp.call("reply_to_merge_request_discussion", **APP, discussion_id=diff["id"], body="Agreed."))
    assert (note["author"], note["resolved"]) == ("alice", False)
    await mcp.call("reply_to_merge_request_discussion", **APP, discussion_id=comment["id"], body="On it.")
    diff, _, comment = await threads(mcp)
    assert [n["body"] for n in diff["notes"]][-1] == "Agreed."
    assert (comment["individual_note"], comment["resolved"], len(comment["notes"])) == (False, False, 2)


async def test_reply_to_an_unknown_thread_says_not_found(mcp, text_of):
    result = await mcp.call("reply_to_merge_request_discussion", **APP, discussion_id="f" * 40, body="Hello")
    assert result.is_error and "404 Discussion Not Found" in text_of(result)


# --- resolve_merge_request_discussion ------------------------------------------------------------
async def test_resolve_and_unresolve_a_thread(mcp):
    diff = (await threads(mcp))[0]
    thread = ok(await mcp.call("resolve_merge_request_discussion", **APP, discussion_id=diff["id"]))
    assert thread["resolved"] is True and {n["resolved_by"] for n in thread["notes"]} == {"alice"}
    again = ok(await mcp.call("resolve_merge_request_discussion", **APP, discussion_id=diff["id"], resolved=False))
    assert again["resolved"] is False and (await threads(mcp))[0]["resolved"] is False


async def test_the_mr_author_may_resolve_but_a_non_member_may_not(mcp_as, text_of):
    diff = (await threads(mcp_as("bob")))[0]
    thread = await mcp_as("bob").call("resolve_merge_request_discussion", **APP, discussion_id=diff["id"])
    assert ok(thread)["notes"][0]["resolved_by"] == "bob"
    charlie, website = mcp_as("charlie"), {"project": "acme/website", "iid": 1}
    (footer,) = await threads(charlie, **website)
    refused = await charlie.call("resolve_merge_request_discussion", **website, discussion_id=footer["id"])
    assert refused.is_error and "403 Forbidden" in text_of(refused)


async def test_a_single_comment_cannot_be_resolved(mcp, text_of):
    comment = (await threads(mcp))[2]
    result = await mcp.call("resolve_merge_request_discussion", **APP, discussion_id=comment["id"])
    assert result.is_error and "You do not have permission" in text_of(result)


# --- update_merge_request_note / delete_merge_request_note ---------------------------------------
async def test_update_your_own_note(mcp):
    note_id = (await threads(mcp))[0]["notes"][0]["id"]
    note = ok(await mcp.call("update_merge_request_note", **APP, note_id=note_id, body="Should `check` raise?"))
    assert (note["id"], note["body"]) == (note_id, "Should `check` raise?")
    assert note["updated_at"] > note["created_at"]


async def test_update_someone_elses_note_is_forbidden(mcp_as, text_of):
    bob = mcp_as("bob")
    note_id = (await threads(bob))[0]["notes"][0]["id"]  # alice's
    result = await bob.call("update_merge_request_note", **APP, note_id=note_id, body="Edited by bob")
    assert result.is_error and "403 Forbidden" in text_of(result)
    assert (await threads(bob))[0]["notes"][0]["body"] == "Should `check` raise on bad input?"


async def test_delete_your_own_note(mcp):
    created = ok(await mcp.call("create_merge_request_note", **APP, body="Oops, wrong MR."))
    deleted = ok(await mcp.call("delete_merge_request_note", **APP, note_id=created["id"]))
    assert deleted == {"deleted": True, "note_id": created["id"]}
    assert len(await threads(mcp)) == 3


async def test_delete_a_missing_or_foreign_note_fails(mcp, mcp_as, text_of):
    missing = await mcp.call("delete_merge_request_note", **APP, note_id=999999)
    assert missing.is_error and "Note 999999 on Merge request !1 in acme/app not found" in text_of(missing)
    note_id = (await threads(mcp))[0]["notes"][0]["id"]
    foreign = await mcp_as("bob").call("delete_merge_request_note", **APP, note_id=note_id)
    assert foreign.is_error and "403 Forbidden" in text_of(foreign)
    assert len((await threads(mcp))[0]["notes"]) == 2


# --- draft notes ---------------------------------------------------------------------------------
async def test_drafts_are_private_until_published(mcp, mcp_as):
    draft = ok(await mcp.call("create_draft_note", **APP, note="Typo here.", new_path="app/login.py", new_line=4))
    assert draft["note"] == "Typo here." and draft["position"]["new_line"] == 4
    mine = ok(await mcp.call("list_draft_notes", **APP))["items"]
    assert [d["id"] for d in mine] == [draft["id"]]
    bobs = ok(await mcp_as("bob").call("list_draft_notes", **APP))["items"]
    assert [d["note"] for d in bobs] == ["Nit: add a test for the empty form."]
    assert len(await threads(mcp)) == 3
    assert ok(await mcp.call("publish_draft_notes", **APP)) == {"published": True, "iid": 1}
    assert ok(await mcp.call("list_draft_notes", **APP))["items"] == []
    published = (await threads(mcp))[-1]["notes"][0]
    assert (published["body"], published["position"]["new_line"]) == ("Typo here.", 4)
    assert len(ok(await mcp_as("bob").call("list_draft_notes", **APP))["items"]) == 1  # bob's draft stays his


async def test_a_draft_reply_can_resolve_its_thread_on_publish(mcp):
    diff = (await threads(mcp))[0]
    draft = await mcp.call("create_draft_note", **APP, note="Fixed.", in_reply_to_discussion_id=diff["id"])
    assert ok(draft)["discussion_id"] == diff["id"]
    await mcp.call(
        "create_draft_note", **APP, note="Thanks!", in_reply_to_discussion_id=diff["id"], resolve_discussion=True
    )
    ok(await mcp.call("publish_draft_notes", **APP))
    diff = (await threads(mcp))[0]
    assert [n["body"] for n in diff["notes"]][-2:] == ["Fixed.", "Thanks!"] and diff["resolved"] is True


async def test_draft_errors_come_from_gitlab(mcp, text_of):
    unknown = await mcp.call("create_draft_note", **APP, note="Hi", in_reply_to_discussion_id="0" * 40)
    assert unknown.is_error and "Thread to reply to cannot be found" in text_of(unknown)
    hidden = await mcp.call("list_draft_notes", project="bob/secret", iid=1)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)
    missing = await mcp.call("publish_draft_notes", project="acme/app", iid=99)
    assert missing.is_error and "Merge request !99 in acme/app not found" in text_of(missing)


def test_the_simulator_answers_raw_review_requests_as_gitlab_does(sim):
    """What the tools never send still gets GitLab's answers (lib/api/discussions.rb, lib/api/draft_notes.rb)."""
    api, auth = f"{sim.url}/api/v4/projects/acme%2Fapp/merge_requests/1", {"PRIVATE-TOKEN": TOKENS["alice"]}
    no_sha = sim.http.post(
        f"{api}/discussions", json={"body": "x", "position": {"position_type": "text"}}, headers=auth
    )
    assert (no_sha.status_code, no_sha.json()) == (400, {"error": "position[base_sha] is missing"})
    refs = sim.http.get(api, headers=auth).json()["diff_refs"]
    form = {"body": "Form", "position[position_type]": "text", "position[new_path]": "app/login.py"}
    form |= {"position[new_line]": "4", **{f"position[{k}]": v for k, v in refs.items()}}
    created = sim.http.post(f"{api}/discussions", data=form, headers=auth)
    assert created.status_code == 201 and created.json()["notes"][0]["type"] == "DiffNote"
    assert sim.http.get(f"{api}/draft_notes").status_code == 401
    assert sim.http.post(f"{api}/draft_notes/bulk_publish", headers=auth).status_code == 204  # nothing to publish
