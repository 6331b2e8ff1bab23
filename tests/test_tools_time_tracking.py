"""Time tracking, your status and events, merge request notes and pipeline variables
(tests/gitlab_sim/areas/time_tracking.py).

The seed: acme/app#2 is estimated at 4h with 1h 30m spent; acme/app !1 at 1d (8h) with none spent and
five notes (two threads, a comment, a system note); alice's status is coffee, bob's a busy palm_tree.
GitLab's durations: 8-hour days, 5-day weeks.
"""

from __future__ import annotations

from typing import Any

APP_2 = {"project": "acme/app", "target": "issue", "iid": 2}
APP_MR_1 = {"project": "acme/app", "target": "merge_request", "iid": 1}


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    return result.structured_content


# --- get_time_stats ----------------------------------------------------------------------------------
async def test_get_time_stats_of_an_issue_and_a_merge_request(mcp, mcp_as):
    assert ok(await mcp.call("get_time_stats", **APP_2)) == {
        "time_estimate": 14400,
        "total_time_spent": 5400,
        "human_time_estimate": "4h",
        "human_total_time_spent": "1h 30m",
    }
    mr = ok(await mcp.call("get_time_stats", **APP_MR_1))
    assert (mr["time_estimate"], mr["human_time_estimate"], mr["total_time_spent"]) == (28800, "1d", 0)
    public = ok(await mcp_as("charlie").call("get_time_stats", project="acme/website", target="issue", iid=1))
    assert public["time_estimate"] == 0 and public["human_time_estimate"] is None


async def test_get_time_stats_of_hidden_things(mcp, text_of):
    hidden = await mcp.call("get_time_stats", project="bob/secret", target="merge_request", iid=1)
    assert hidden.is_error and "Merge request !1 in bob/secret not found or you have no access" in text_of(hidden)


# --- set_time_estimate, reset_time_estimate ----------------------------------------------------------------
async def test_set_time_estimate_parses_gitlab_durations(mcp):
    result = ok(await mcp.call("set_time_estimate", project="acme/app", target="issue", iid=3, duration="3h30m"))
    assert (result["time_estimate"], result["human_time_estimate"]) == (12600, "3h 30m")
    weeks = ok(await mcp.call("set_time_estimate", project="acme/app", target="issue", iid=3, duration="3w1d"))
    assert (weeks["time_estimate"], weeks["human_time_estimate"]) == ((3 * 5 + 1) * 8 * 3600, "3w 1d")
    notes = ok(await mcp.call("list_issue_notes", project="acme/app", iid=3, sort="desc"))["items"]
    assert (notes[0]["body"], notes[0]["system"]) == ("changed time estimate to 3w 1d", True)


async def test_set_time_estimate_refusals(mcp, mcp_as, text_of):
    bad = await mcp.call("set_time_estimate", **APP_2, duration="soon")
    assert bad.is_error and "Time estimate must have a valid format" in text_of(bad)
    negative = await mcp.call("set_time_estimate", **APP_MR_1, duration="-1h")
    assert negative.is_error and "(HTTP 400)" in text_of(negative)
    guest = await mcp_as("charlie").call(
        "set_time_estimate", project="acme/website", target="issue", iid=1, duration="1h"
    )
    assert guest.is_error and "You do not have permission for this on Issue #1 in acme/website" in text_of(guest)


async def test_reset_time_estimate(mcp, mcp_as):
    result = ok(await mcp_as("bob").call("reset_time_estimate", **APP_MR_1))  # a developer may
    assert (result["time_estimate"], result["human_time_estimate"]) == (0, None)
    assert ok(await mcp.call("get_time_stats", **APP_MR_1))["time_estimate"] == 0


async def test_reset_time_estimate_refusals(mcp, mcp_as, text_of):
    missing = await mcp.call("reset_time_estimate", project="acme/app", target="merge_request", iid=99)
    assert missing.is_error and "Merge request !99 in acme/app not found" in text_of(missing)
    guest = await mcp_as("charlie").call("reset_time_estimate", project="acme/website", target="merge_request", iid=1)
    assert guest.is_error and "403 Forbidden" in text_of(guest)


# --- add_spent_time, reset_spent_time ---------------------------------------------------------------------
async def test_add_spent_time_adds_and_subtracts(mcp):
    added = ok(await mcp.call("add_spent_time", **APP_2, duration="1h", summary="Pairing with bob"))
    assert (added["total_time_spent"], added["human_total_time_spent"]) == (9000, "2h 30m")
    less = ok(await mcp.call("add_spent_time", **APP_2, duration="-30m"))
    assert less["total_time_spent"] == 7200 and less["time_estimate"] == 14400
    on_mr = ok(await mcp.call("add_spent_time", **APP_MR_1, duration="45m"))
    assert on_mr["human_total_time_spent"] == "45m"
    notes = ok(await mcp.call("list_merge_request_notes", project="acme/app", iid=1, sort="desc"))["items"]
    assert (notes[0]["body"], notes[0]["system"], notes[0]["author"]) == ("added 45m of time spent", True, "alice")


async def test_add_spent_time_refusals(mcp, mcp_as, text_of):
    too_much = await mcp.call("add_spent_time", **APP_2, duration="-5h")
    assert too_much.is_error and "Time to subtract exceeds the total time spent" in text_of(too_much)
    nonsense = await mcp.call("add_spent_time", **APP_2, duration="a while")
    assert nonsense.is_error and "(HTTP 400)" in text_of(nonsense)
    guest = await mcp_as("charlie").call("add_spent_time", project="acme/website", target="issue", iid=1, duration="1h")
    assert guest.is_error and "403 Forbidden" in text_of(guest)


async def test_reset_spent_time(mcp):
    result = ok(await mcp.call("reset_spent_time", **APP_2))
    assert (result["total_time_spent"], result["human_total_time_spent"], result["time_estimate"]) == (0, None, 14400)


async def test_reset_spent_time_refusals(mcp, mcp_as, text_of):
    hidden = await mcp_as("charlie").call("reset_spent_time", **APP_2)
    assert hidden.is_error and "Issue #2 in acme/app not found or you have no access" in text_of(hidden)
    confidential = await mcp_as("charlie").call("reset_spent_time", project="acme/website", target="issue", iid=2)
    assert confidential.is_error and "Issue #2 in acme/website not found" in text_of(confidential)


# --- get_my_status, set_my_status ---------------------------------------------------------------------------
async def test_get_my_status(mcp, mcp_as):
    assert ok(await mcp.call("get_my_status")) == {
        "emoji": "coffee",
        "message": "Reviewing merge requests",
        "availability": "not_set",
        "clear_status_at": None,
    }
    bob = ok(await mcp_as("bob").call("get_my_status"))
    assert (bob["emoji"], bob["availability"]) == ("palm_tree", "busy")


async def test_get_my_status_when_gitlab_fails(mcp, sim, text_of):
    sim.fault("/api/v4/user/status", status=500)
    result = await mcp.call("get_my_status")
    assert result.is_error and "GitLab failed with HTTP 500 while handling Your status" in text_of(result)


async def test_set_my_status_replaces_and_clears_it(mcp):
    busy = ok(
        await mcp.call("set_my_status", message="In a workshop", availability="busy", clear_status_after="3_hours")
    )
    assert (busy["emoji"], busy["message"], busy["availability"]) == ("speech_balloon", "In a workshop", "busy")
    assert busy["clear_status_at"] is not None
    only_emoji = ok(await mcp.call("set_my_status", emoji="hourglass"))  # PUT: the message is cleared
    assert (only_emoji["emoji"], only_emoji["message"], only_emoji["availability"]) == ("hourglass", None, "not_set")
    cleared = ok(await mcp.call("set_my_status"))
    assert cleared == {"emoji": None, "message": None, "availability": None, "clear_status_at": None}
    assert ok(await mcp.call("get_my_status"))["emoji"] is None


async def test_set_my_status_refusals(mcp, mcp_with, tokens, text_of):
    unknown = await mcp.call("set_my_status", emoji="not_an_emoji", message="hi")
    assert unknown.is_error and "emoji is not a valid emoji name" in text_of(unknown)
    too_long = await mcp.call("set_my_status", message="x" * 101)
    assert too_long.is_error and "100" in text_of(too_long)
    read_only = mcp_with(token=tokens["alice_read"])
    refused = await read_only.call("set_my_status", message="hi")
    assert refused.is_error and "lacks the 'api' scope" in text_of(refused)


# --- list_my_events ----------------------------------------------------------------------------------------------
async def test_list_my_events(mcp, mcp_as):
    assert [e["id"] for e in ok(await mcp.call("list_my_events"))["items"]] == [9, 7, 5, 4, 1]
    pushes = ok(await mcp.call("list_my_events", action="pushed"))["items"]
    assert [(e["id"], e["push_data"]["ref"]) for e in pushes] == [(1, "main")]
    assert [e["id"] for e in ok(await mcp.call("list_my_events", after="2024-04-05"))["items"]] == [9, 7]
    assert [e["id"] for e in ok(await mcp_as("bob").call("list_my_events"))["items"]] == [8, 6, 3, 2]


async def test_list_my_events_refusals(mcp, sim, text_of):
    bad_day = await mcp.call("list_my_events", after="last week")
    assert bad_day.is_error and "after" in text_of(bad_day)
    sim.fault("/api/v4/events", status=500)
    failed = await mcp.call("list_my_events")
    assert failed.is_error and "HTTP 500 while handling Your events" in text_of(failed)


# --- list_merge_request_notes ---------------------------------------------------------------------------------
async def test_list_merge_request_notes_is_a_flat_timeline(mcp):
    result = ok(await mcp.call("list_merge_request_notes", project="acme/app", iid=1))
    notes = result["items"]
    assert [(n["author"], n["type"], n["system"]) for n in notes] == [
        ("alice", "DiffNote", False),
        ("bob", "DiscussionNote", False),
        ("alice", "DiffNote", False),
        ("bob", None, False),
        ("bob", None, True),
    ]
    assert [n.get("resolved") for n in notes] == [False, False, True, None, None]
    assert notes[-1]["body"] == "requested review from @alice" and result["total"] == 5


async def test_list_merge_request_notes_of_hidden_or_missing_merge_requests(mcp, text_of):
    hidden = await mcp.call("list_merge_request_notes", project="bob/secret", iid=1)
    assert hidden.is_error and "Merge request !1 in bob/secret not found or you have no access" in text_of(hidden)
    missing = await mcp.call("list_merge_request_notes", project="acme/app", iid=99)
    assert missing.is_error and "404 MergeRequest Not Found" in text_of(missing)


# --- list_pipeline_variables ---------------------------------------------------------------------------------------
async def test_list_pipeline_variables(mcp):
    variables = [{"key": "DEPLOY_ENV", "value": "staging"}, {"key": "CONFIG", "value": "a=1", "variable_type": "file"}]
    pipeline = ok(await mcp.call("create_pipeline", project="acme/app", ref="main", variables=variables))
    result = ok(await mcp.call("list_pipeline_variables", project="acme/app", pipeline_id=pipeline["id"]))
    assert result["items"] == [
        {"key": "DEPLOY_ENV", "variable_type": "env_var", "value": "staging"},
        {"key": "CONFIG", "variable_type": "file", "value": "a=1"},
    ]


async def test_list_pipeline_variables_refusals(mcp, mcp_as, text_of):
    missing = await mcp.call("list_pipeline_variables", project="acme/app", pipeline_id=999999)
    assert missing.is_error and "Pipeline 999999 in acme/app not found" in text_of(missing)
    hidden = await mcp_as("charlie").call("list_pipeline_variables", project="acme/app", pipeline_id=1)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)
    reader = await mcp_as("charlie").call("list_pipeline_variables", project="acme/website", pipeline_id=701)
    assert reader.is_error and "You do not have permission for this on Pipeline 701" in text_of(reader)
