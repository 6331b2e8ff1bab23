"""Simulated GitLab API: time tracking on issues and merge requests (doc/api/issues.md#time-tracking,
doc/api/merge_requests.md), the merge request notes list (doc/api/notes.md), your own status
(doc/api/users.md) and your own events (doc/api/events.md#list-the-authenticated-users-events).

State: estimates and totals live in the issue/MR row's `time_stats` (only the keys it already has are
written); world.table("timelogs") keeps each entry {id, kind, issuable_id, user_id, time_spent,
summary, spent_at}; world.extra["user_status"] maps user id → {emoji, message, availability,
clear_status_at}. Seed: acme/app#2 estimated 4h with 1h 30m spent by bob; acme/app !1 estimated 1d;
alice's status is coffee, bob's is a busy palm_tree.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.discussions import add_mr_note, merge_request_in_path, mr_notes, public
from tests.gitlab_sim.areas.issues import add_note, find_issue
from tests.gitlab_sim.areas.merge_requests import find_merge_request
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.reactions import EMOJI
from tests.gitlab_sim.areas.users import _events
from tests.gitlab_sim.http import (
    Call,
    Router,
    bad_request,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import REPORTER, World

Row = dict[str, Any]
HOUR = 3600
# Gitlab::TimeTrackingFormatter: 8-hour days, 5-day weeks, 20-day months; a bare number is hours.
UNITS = {"mo": 160 * HOUR, "w": 40 * HOUR, "d": 8 * HOUR, "h": HOUR, "m": 60, "s": 1}
ALIASES = {"month": "mo", "months": "mo", "week": "w", "weeks": "w", "wk": "w", "day": "d", "days": "d"}
ALIASES |= {"hour": "h", "hours": "h", "hr": "h", "hrs": "h", "min": "m", "mins": "m", "minute": "m"}
ALIASES |= {"minutes": "m", "sec": "s", "secs": "s", "second": "s", "seconds": "s"}
TOKEN = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
ESTIMATE_ERROR = "400 Bad request - Time estimate must have a valid format and be greater than or equal to zero."
KINDS = (("issues", "issue_iid", "Issue"), ("merge_requests", "merge_request_iid", "MergeRequest"))
# doc/api/users.md#set-your-user-status
AVAILABILITY = ("busy", "not_set")
CLEAR_AFTER = {"30_minutes": 30 * 60, "3_hours": 3 * HOUR, "8_hours": 8 * HOUR, "1_day": 24 * HOUR}
CLEAR_AFTER |= {"3_days": 72 * HOUR, "7_days": 168 * HOUR, "30_days": 720 * HOUR}
STATUS_FIELDS = ("emoji", "message", "availability", "clear_status_after")


def register(router: Router) -> None:
    for collection, key, kind in KINDS:
        base = f"/projects/:id/{collection}/:{key}"
        router.route("GET", f"{base}/time_stats")(_bind(time_stats, key, kind))
        router.route("POST", f"{base}/time_estimate")(_bind(set_estimate, key, kind))
        router.route("POST", f"{base}/reset_time_estimate")(_bind(reset_estimate, key, kind))
        router.route("POST", f"{base}/add_spent_time")(_bind(add_spent, key, kind))
        router.route("POST", f"{base}/reset_spent_time")(_bind(reset_spent, key, kind))
    router.route("GET", "/projects/:id/merge_requests/:merge_request_iid/notes")(list_mr_notes)
    router.route("GET", "/user/status")(get_status)
    router.route("PUT", "/user/status")(put_status)
    router.route("PATCH", "/user/status")(patch_status)
    router.route("GET", "/events")(list_my_events)


def _bind(handler: Any, key: str, kind: str) -> Any:
    async def bound(call: Call) -> Response:
        return await handler(call, key, kind)

    return bound


# --- durations -------------------------------------------------------------------------------------
def parse_duration(text: str) -> int | None:
    """Seconds for a GitLab duration ("1h30m", "3w1d", "-30m"), or None when it does not parse."""
    value = text.strip().lower()
    negative = value.startswith("-")
    value = value.removeprefix("-")
    tokens = TOKEN.findall(value)
    if not tokens or TOKEN.sub("", value).strip(" ,"):
        return None
    total = 0.0
    for number, unit in tokens:
        unit = ALIASES.get(unit, unit) or "h"
        if unit not in UNITS:
            return None
        total += float(number) * UNITS[unit]
    return -round(total) if negative else round(total)


def human(seconds: int) -> str | None:
    """ChronicDuration's short format with weeks, as GitLab shows it ("1w 2d 3h 30m"); 0 is null."""
    if not seconds:
        return None
    rest, parts = abs(seconds), []
    for unit, size in UNITS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return ("-" if seconds < 0 else "") + " ".join(parts)


# --- time tracking ---------------------------------------------------------------------------------
def issuable(call: Call, key: str, kind: str, *, admin: bool) -> Row | Response:
    """The issue/MR of the path (find_project_issue / find_project_merge_request), then authorize!
    read_<kind> or admin_<kind>: reporters and up track time (doc/user/permissions.md)."""
    if admin and call.user_id is None:
        return error(401, "401 Unauthorized")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params[key].isdigit():
        return invalid_param(key)
    if kind == "Issue":
        row = find_issue(call, project)
    else:
        row = find_merge_request(call.world, project["id"], int(call.params[key]))
    if row is None:
        return not_found()  # the finders' find_by! raises RecordNotFound
    if admin and call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()
    return row


def stats(world: World, row: Row, kind: str) -> Row:
    estimate = int(row["time_stats"].get("time_estimate") or 0)
    spent = sum(t["time_spent"] for t in world.table("timelogs") if (t["kind"], t["issuable_id"]) == (kind, row["id"]))
    return {
        "time_estimate": estimate,
        "total_time_spent": spent,
        "human_time_estimate": human(estimate),
        "human_total_time_spent": human(spent),
    }


def sync(world: World, row: Row, kind: str) -> Row:
    """Write the current totals into the row's own time_stats keys (its shape stays); return all four."""
    current = stats(world, row, kind)
    for key in row["time_stats"]:
        row["time_stats"][key] = current[key]
    return current


def _changed(world: World, row: Row, kind: str, user_id: int, note: str, *, status: int = 200) -> Response:
    """Record the new totals, add GitLab's system note, answer with the time stats."""
    current = sync(world, row, kind)
    if kind == "Issue":
        add_note(world, row, author=user_id, body=note, system=True)
    else:
        add_mr_note(world, row, author=user_id, body=note, system=True)
    return JSONResponse(current, status_code=status)


def add_timelog(world: World, row: Row, kind: str, *, user_id: int, seconds: int, summary: str | None = None) -> None:
    log = {"id": world.next_id(), "kind": kind, "issuable_id": row["id"], "user_id": user_id}
    log |= {"time_spent": seconds, "summary": summary, "spent_at": datetime.now(UTC).isoformat()}
    world.table("timelogs").append(log)


async def time_stats(call: Call, key: str, kind: str) -> Response:
    row = issuable(call, key, kind, admin=False)
    return row if isinstance(row, Response) else JSONResponse(stats(call.world, row, kind))


async def set_estimate(call: Call, key: str, kind: str) -> Response:
    if call.arg("duration") is None:
        return missing_param("duration")
    row = issuable(call, key, kind, admin=True)
    if isinstance(row, Response):
        return row
    seconds = parse_duration(str(call.arg("duration")))
    if seconds is None or seconds < 0:
        return bad_request(ESTIMATE_ERROR)
    row["time_stats"]["time_estimate"] = seconds
    note = f"changed time estimate to {human(seconds)}" if seconds else "removed time estimate"
    return _changed(call.world, row, kind, call.user_id or 0, note)


async def reset_estimate(call: Call, key: str, kind: str) -> Response:
    row = issuable(call, key, kind, admin=True)
    if isinstance(row, Response):
        return row
    row["time_stats"]["time_estimate"] = 0
    return _changed(call.world, row, kind, call.user_id or 0, "removed time estimate")


async def add_spent(call: Call, key: str, kind: str) -> Response:
    if call.arg("duration") is None:
        return missing_param("duration")
    row = issuable(call, key, kind, admin=True)
    if isinstance(row, Response):
        return row
    seconds = parse_duration(str(call.arg("duration")))
    if seconds is None:
        # The timelog is saved with the issuable (autosave), so its error is rendered on the issuable.
        return bad_request({"timelogs.time_spent": ["can't be blank"]})
    if seconds == 0:
        return JSONResponse(stats(call.world, row, kind), status_code=201)  # spend_time returns early
    if seconds < 0 and -seconds > stats(call.world, row, kind)["total_time_spent"]:
        return bad_request({"base": ["Time to subtract exceeds the total time spent"]})
    summary = call.arg("summary")
    add_timelog(call.world, row, kind, user_id=call.user_id or 0, seconds=seconds, summary=summary)
    verb = "added" if seconds > 0 else "subtracted"
    note = f"{verb} {human(abs(seconds))} of time spent"
    return _changed(call.world, row, kind, call.user_id or 0, note, status=201)


async def reset_spent(call: Call, key: str, kind: str) -> Response:
    row = issuable(call, key, kind, admin=True)
    if isinstance(row, Response):
        return row
    total = stats(call.world, row, kind)["total_time_spent"]
    if total:
        add_timelog(call.world, row, kind, user_id=call.user_id or 0, seconds=-total)  # reset_spent_time
    return _changed(call.world, row, kind, call.user_id or 0, "removed time spent")


# --- merge request notes ---------------------------------------------------------------------------
async def list_mr_notes(call: Call) -> Response:
    order, sort = call.arg("order_by", "created_at"), call.arg("sort", "desc")
    for name, value, allowed in (("order_by", order, ("created_at", "updated_at")), ("sort", sort, ("asc", "desc"))):
        if value not in allowed:
            return invalid_value(name)
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    notes = sorted(mr_notes(call.world, mr), key=lambda n: (n[order], n["id"]), reverse=sort == "desc")
    return paginate(call, [public(n) for n in notes])


# --- your status -----------------------------------------------------------------------------------
def status_entity(status: Row | None) -> Row:
    """Entities::UserStatus; with no status GitLab presents {} through it, so every field is null."""
    if not status:
        return dict.fromkeys(("emoji", "availability", "message", "message_html", "clear_status_at"))
    message = status["message"]
    return {
        "emoji": status["emoji"],
        "availability": status["availability"],
        "message": message,
        "message_html": html.escape(message) if message else None,
        "clear_status_at": status["clear_status_at"],
    }


async def get_status(call: Call) -> Response:
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    return JSONResponse(status_entity(call.world.extra.get("user_status", {}).get(call.user_id)))


async def put_status(call: Call) -> Response:
    return _set_status(call, replace=True)


async def patch_status(call: Call) -> Response:
    return _set_status(call, replace=False)


def _set_status(call: Call, *, replace: bool) -> Response:
    """PUT nullifies what is not passed, PATCH keeps it (Users::SetStatusService)."""
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    given = {k: call.arg(k) for k in STATUS_FIELDS if k in call.body or k in call.query}
    for name, allowed in (("availability", AVAILABILITY), ("clear_status_after", CLEAR_AFTER)):
        if given.get(name) is not None and given[name] not in allowed:
            return invalid_value(name)
    statuses = call.world.extra.setdefault("user_status", {})
    current = {} if replace else dict(statuses.get(call.user_id) or {})
    emoji, message = given.get("emoji", current.get("emoji")), given.get("message", current.get("message"))
    availability = given.get("availability", current.get("availability"))
    if not emoji and not message and availability != "busy":
        statuses.pop(call.user_id, None)  # status_cleared?: the status is removed
        return JSONResponse(status_entity(None))
    emoji = emoji or "speech_balloon"  # UserStatus::DEFAULT_EMOJI
    if emoji not in EMOJI:
        return bad_request({"emoji": ["is not a valid emoji name"]})
    if message and len(message) > 100:
        return bad_request({"message": ["is too long (maximum is 100 characters)"]})
    clear_at = current.get("clear_status_at")
    if "clear_status_after" in given:
        after = CLEAR_AFTER.get(given["clear_status_after"] or "")
        clear_at = _in(after) if after else None
    status = {"emoji": emoji, "message": message or None, "availability": availability or "not_set"}
    statuses[call.user_id] = status | {"clear_status_at": clear_at}
    return JSONResponse(status_entity(statuses[call.user_id]))


def _in(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- your events -----------------------------------------------------------------------------------
async def list_my_events(call: Call) -> Response:
    """Your own events; scope=all adds everyone's events in the projects you are a member of."""
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    world, me = call.world, call.user_id
    mine = [e for e in world.table("events") if e["author_id"] == me]
    if call.arg("scope") == "all":
        mine = [e for e in world.table("events") if e["author_id"] == me or world.access_level(me, e["project_id"])]
    return _events(call, mine)


# --- seed ------------------------------------------------------------------------------------------
def seed(world: World) -> None:
    issue = next(i for i in world.table("issues") if i["project_id"] == 101 and i["iid"] == 2)
    issue["time_stats"]["time_estimate"] = 4 * HOUR
    add_timelog(world, issue, "Issue", user_id=2, seconds=90 * 60, summary="Prototype of the toggle")
    mr = find_merge_request(world, 101, 1)
    assert mr is not None
    mr["time_stats"]["time_estimate"] = 8 * HOUR
    sync(world, issue, "Issue")
    sync(world, mr, "MergeRequest")
    world.extra["user_status"] = {
        1: {"emoji": "coffee", "message": "Reviewing merge requests", "availability": "not_set"},
        2: {"emoji": "palm_tree", "message": "On holiday until Monday", "availability": "busy"},
    }
    for status in world.extra["user_status"].values():
        status["clear_status_at"] = None
