"""Emoji reactions, issue subscriptions and participants (tests/gitlab_sim/areas/reactions.py).

The seed: acme/app#1 (author alice, assigned to alice, comments by bob and alice) has bob's thumbsup
and alice's eyes; acme/app !1 has alice's rocket; acme/app#6 (author bob) does not involve alice.
"""

from __future__ import annotations

from typing import Any


def items(result: Any) -> list[dict[str, Any]]:
    assert not result.is_error, result
    return result.structured_content["items"]


# --- list_emoji_reactions --------------------------------------------------------------------------
async def test_list_emoji_reactions_on_an_issue_and_a_merge_request(mcp):
    result = await mcp.call("list_emoji_reactions", project="acme/app", target="issue", iid=1)
    assert [(a["name"], a["user"]) for a in items(result)] == [("thumbsup", "bob"), ("eyes", "alice")]
    assert result.structured_content["counts"] == {"thumbsup": 1, "eyes": 1}
    assert set(items(result)[0]) == {"id", "name", "user", "created_at"}
    mr = await mcp.call("list_emoji_reactions", project="acme/app", target="merge_request", iid=1)
    assert [(a["name"], a["user"]) for a in items(mr)] == [("rocket", "alice")]


async def test_list_emoji_reactions_hides_what_you_cannot_read(mcp, mcp_as, text_of):
    hidden = await mcp.call("list_emoji_reactions", project="bob/secret", target="issue", iid=1)
    assert hidden.is_error and "Issue #1 in bob/secret not found or you have no access" in text_of(hidden)
    confidential = await mcp_as("charlie").call("list_emoji_reactions", project="acme/website", target="issue", iid=2)
    assert confidential.is_error and "404 Award Emoji Not Found" in text_of(confidential)
    missing = await mcp.call("list_emoji_reactions", project="acme/app", target="merge_request", iid=99)
    assert missing.is_error and "Merge request !99 in acme/app not found" in text_of(missing)


# --- add_emoji_reaction ------------------------------------------------------------------------------
async def test_add_emoji_reaction_thumbsup_is_an_upvote(mcp):
    before = (await mcp.call("get_issue", project="acme/app", iid=2)).structured_content["upvotes"]
    result = await mcp.call("add_emoji_reaction", project="acme/app", target="issue", iid=2, name=":thumbsup:")
    assert not result.is_error, result
    assert result.structured_content["name"] == "thumbsup" and result.structured_content["user"] == "alice"
    assert (await mcp.call("get_issue", project="acme/app", iid=2)).structured_content["upvotes"] == before + 1
    on_mr = await mcp.call("add_emoji_reaction", project="acme/app", target="merge_request", iid=1, name="tada")
    assert on_mr.structured_content["name"] == "tada"
    listed = await mcp.call("list_emoji_reactions", project="acme/app", target="merge_request", iid=1)
    assert listed.structured_content["counts"] == {"rocket": 1, "tada": 1}


async def test_anyone_who_can_read_may_react(mcp_as):
    charlie = mcp_as("charlie")
    result = await charlie.call("add_emoji_reaction", project="acme/website", target="issue", iid=1, name="heart")
    assert not result.is_error, result
    assert result.structured_content["user"] == "charlie"


async def test_add_emoji_reaction_refusals(mcp, mcp_as, text_of):
    again = await mcp.call("add_emoji_reaction", project="acme/app", target="issue", iid=1, name="eyes")
    assert again.is_error and "Name has already been taken" in text_of(again)
    unknown = await mcp.call("add_emoji_reaction", project="acme/app", target="issue", iid=1, name="no_such_emoji")
    assert unknown.is_error and "Name is not a valid emoji name" in text_of(unknown)
    hidden = await mcp_as("charlie").call("add_emoji_reaction", project="acme/app", target="issue", iid=1, name="eyes")
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)


# --- remove_emoji_reaction ---------------------------------------------------------------------------
async def test_remove_emoji_reaction_removes_your_own(mcp):
    listed = items(await mcp.call("list_emoji_reactions", project="acme/app", target="issue", iid=1))
    mine = next(a for a in listed if a["user"] == "alice")
    result = await mcp.call("remove_emoji_reaction", project="acme/app", target="issue", iid=1, award_id=mine["id"])
    assert result.structured_content == {"deleted": True, "award_id": mine["id"], "name": "eyes"}
    after = await mcp.call("list_emoji_reactions", project="acme/app", target="issue", iid=1)
    assert [a["user"] for a in items(after)] == ["bob"]


async def test_remove_emoji_reaction_of_someone_else_is_refused_before_deleting(mcp, sim, text_of):
    listed = items(await mcp.call("list_emoji_reactions", project="acme/app", target="issue", iid=1))
    bobs = next(a for a in listed if a["user"] == "bob")
    result = await mcp.call("remove_emoji_reaction", project="acme/app", target="issue", iid=1, award_id=bobs["id"])
    assert result.is_error
    assert f"Emoji reaction {bobs['id']} on Issue #1 in acme/app is @bob's" in text_of(result)
    assert not [r for r in sim.requests() if r["method"] == "DELETE"]
    missing = await mcp.call("remove_emoji_reaction", project="acme/app", target="merge_request", iid=1, award_id=9)
    assert missing.is_error and "Emoji reaction 9 on Merge request !1 in acme/app not found" in text_of(missing)


# --- subscribe_to_issue, unsubscribe_from_issue --------------------------------------------------------
async def test_subscribe_and_unsubscribe(mcp):
    first = await mcp.call("subscribe_to_issue", project="acme/app", iid=6)
    assert first.structured_content == {"iid": 6, "subscribed": True, "changed": True}
    again = await mcp.call("subscribe_to_issue", project="acme/app", iid=6)  # 304 Not Modified
    assert again.structured_content == {"iid": 6, "subscribed": True, "changed": False}
    off = await mcp.call("unsubscribe_from_issue", project="acme/app", iid=6)
    assert off.structured_content == {"iid": 6, "subscribed": False, "changed": True}
    off_again = await mcp.call("unsubscribe_from_issue", project="acme/app", iid=6)
    assert off_again.structured_content == {"iid": 6, "subscribed": False, "changed": False}


async def test_participants_are_subscribed_until_they_unsubscribe(mcp):
    already = await mcp.call("subscribe_to_issue", project="acme/app", iid=1)  # alice is its author
    assert already.structured_content["changed"] is False
    off = await mcp.call("unsubscribe_from_issue", project="acme/app", iid=1)
    assert off.structured_content == {"iid": 1, "subscribed": False, "changed": True}


async def test_subscriptions_to_issues_you_cannot_see(mcp, mcp_as, text_of):
    hidden = await mcp.call("subscribe_to_issue", project="bob/secret", iid=1)
    assert hidden.is_error and "Issue #1 in bob/secret not found or you have no access" in text_of(hidden)
    confidential = await mcp_as("charlie").call("unsubscribe_from_issue", project="acme/website", iid=2)
    assert confidential.is_error and "Issue #2 in acme/website not found" in text_of(confidential)


# --- list_issue_participants ---------------------------------------------------------------------------
async def test_list_issue_participants(mcp, mcp_as):
    result = await mcp.call("list_issue_participants", project="acme/app", iid=1)
    assert items(result) == [
        {"id": 1, "username": "alice", "name": "Alice Liddell"},
        {"id": 2, "username": "bob", "name": "Bob Builder"},
    ]
    assert result.structured_content["total"] == 2
    website = await mcp_as("charlie").call("list_issue_participants", project="acme/website", iid=3)
    assert [u["username"] for u in items(website)] == ["alice"]


async def test_list_issue_participants_of_a_missing_issue(mcp, text_of):
    result = await mcp.call("list_issue_participants", project="acme/app", iid=999)
    assert result.is_error and "Issue #999 in acme/app not found or you have no access" in text_of(result)
