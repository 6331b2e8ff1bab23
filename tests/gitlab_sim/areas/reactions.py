"""Simulated GitLab API: emoji reactions on issues and merge requests (doc/api/emoji_reactions.md), and
issue subscriptions and participants (doc/api/issues.md).

Rows: world.table("award_emoji") holds reactions in GitLab's AwardEmoji shape (awardable_id is the
issue's or MR's global id); world.table("subscriptions") holds {user_id, issue_id, subscribed}, an
explicit choice that overrides the default (participants are subscribed). Awarding thumbsup/thumbsdown
moves the awardable's upvotes/downvotes. Seed: acme/app#1 has bob's thumbsup (its one upvote) and
alice's eyes; acme/app !1 has alice's rocket.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.issues import can_see, find_issue
from tests.gitlab_sim.areas.merge_requests import find_merge_request
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, Router, error, invalid_param, missing_param, not_found, paginate
from tests.gitlab_sim.world import REPORTER, World, now

Row = dict[str, Any]
# A few of TanukiEmoji's alpha codes: enough for the tests, and anything else is "not a valid emoji name".
EMOJI = frozenset({
    "thumbsup", "thumbsdown", "tada", "rocket", "eyes", "heart", "smile", "laughing", "confused", "hourglass",
    "coffee", "speech_balloon", "palm_tree", "red_circle", "white_check_mark", "100", "thinking", "fire",
})  # fmt: skip
VOTES = {"thumbsup": "upvotes", "thumbsdown": "downvotes"}
KINDS = (("issues", "issue_iid", "Issue"), ("merge_requests", "merge_request_iid", "MergeRequest"))


def register(router: Router) -> None:
    for collection, key, kind in KINDS:
        base = f"/projects/:id/{collection}/:{key}/award_emoji"
        router.route("GET", base)(_bind(list_awards, key, kind))
        router.route("POST", base)(_bind(add_award, key, kind))
        router.route("GET", f"{base}/:award_id")(_bind(get_award, key, kind))
        router.route("DELETE", f"{base}/:award_id")(_bind(delete_award, key, kind))
    router.route("POST", "/projects/:id/issues/:issue_iid/subscribe")(subscribe)
    router.route("POST", "/projects/:id/issues/:issue_iid/unsubscribe")(unsubscribe)
    router.route("GET", "/projects/:id/issues/:issue_iid/participants")(list_participants)


def _bind(handler: Any, key: str, kind: str) -> Any:
    async def bound(call: Call) -> Response:
        return await handler(call, key, kind)

    return bound


# --- the awardable ---------------------------------------------------------------------------------
def awardable(call: Call, key: str, kind: str) -> Row | Response:
    """The issue or MR of the path, found as `user_project.<kind>.find_by!(iid:)` does: hidden projects
    are "404 Project Not Found", a missing iid "404 Not found"; one you may not read is checked later."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params[key].isdigit():
        return invalid_param(key)
    iid = int(call.params[key])
    if kind == "Issue":
        rows = call.world.table("issues")
        found = next((i for i in rows if i["project_id"] == project["id"] and i["iid"] == iid), None)
    else:
        found = find_merge_request(call.world, project["id"], iid)
    return found if found is not None else not_found()


def can_read(call: Call, row: Row, kind: str) -> bool:
    project = call.world.projects[row["project_id"]]
    if kind == "Issue":
        return project.get("issues_enabled", True) and can_see(call.world, call.user_id, row)
    return bool(project.get("merge_requests_enabled", True))


def awards_of(world: World, row: Row, kind: str) -> list[Row]:
    rows = world.table("award_emoji")
    return [a for a in rows if a["awardable_type"] == kind and a["awardable_id"] == row["id"]]


def add_reaction(world: World, row: Row, kind: str, *, user_id: int, name: str, at: str = "") -> Row:
    when = at or now()
    award = {"id": world.next_id(), "name": name, "user": world.user_ref(user_id), "created_at": when}
    award |= {"updated_at": when, "awardable_id": row["id"], "awardable_type": kind}
    world.table("award_emoji").append(award)
    if name in VOTES:
        row[VOTES[name]] += 1
    return award


# --- endpoints -------------------------------------------------------------------------------------
async def list_awards(call: Call, key: str, kind: str) -> Response:
    row = awardable(call, key, kind)
    if isinstance(row, Response):
        return row
    if not can_read(call, row, kind):
        return not_found("Award Emoji")
    return paginate(call, sorted(awards_of(call.world, row, kind), key=lambda a: a["id"]))


async def get_award(call: Call, key: str, kind: str) -> Response:
    row = awardable(call, key, kind)
    if isinstance(row, Response):
        return row
    if not can_read(call, row, kind):
        return not_found("Award Emoji")
    award = next((a for a in awards_of(call.world, row, kind) if str(a["id"]) == call.params["award_id"]), None)
    return JSONResponse(award) if award is not None else not_found()


async def add_award(call: Call, key: str, kind: str) -> Response:
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    name = call.arg("name")
    if name is None:
        return missing_param("name")
    row = awardable(call, key, kind)
    if isinstance(row, Response):
        return row
    archived = call.world.projects[row["project_id"]].get("archived")
    if not can_read(call, row, kind) or archived:
        return not_found("Award Emoji")  # can_read_awardable? && can_award_awardable?
    # AwardEmojis::AddService: the model's validation errors, rendered as not_found!("Award Emoji #{message}").
    name = str(name)
    if name not in EMOJI:
        return not_found("Award Emoji Name is not a valid emoji name")
    if any(a["name"] == name and a["user"]["id"] == call.user_id for a in awards_of(call.world, row, kind)):
        return not_found("Award Emoji Name has already been taken")
    return JSONResponse(add_reaction(call.world, row, kind, user_id=call.user_id, name=name), status_code=201)


async def delete_award(call: Call, key: str, kind: str) -> Response:
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    row = awardable(call, key, kind)
    if isinstance(row, Response):
        return row
    award = next((a for a in awards_of(call.world, row, kind) if str(a["id"]) == call.params["award_id"]), None)
    if award is None:
        return not_found()  # awardable.award_emoji.find raises RecordNotFound
    if award["user"]["id"] != call.user_id:
        return error(401, "401 Unauthorized")  # unauthorized! unless the author (or an admin)
    call.world.table("award_emoji").remove(award)
    if award["name"] in VOTES:
        row[VOTES[award["name"]]] -= 1
    return Response(status_code=204)


# --- subscriptions and participants (doc/api/issues.md) -------------------------------------------
def participants(world: World, issue: Row, viewer: int | None) -> list[Row]:
    """Issuable participants: author, assignees and commenters (not system notes), those the viewer may see
    (internal notes only for reporters and up), and only people who can see the issue themselves."""
    project = world.projects[issue["project_id"]]
    notes = [n for n in world.table("notes") if n["noteable_type"] == "Issue" and n["noteable_id"] == issue["id"]]
    if world.access_level(viewer, project["id"]) < REPORTER:
        notes = [n for n in notes if not n["internal"]]
    people = [issue["author"], *issue["assignees"], *(n["author"] for n in notes if not n["system"])]
    unique = {p["id"]: p for p in people if p and p["id"] in world.users}
    return [world.user_ref(uid) for uid in unique if world.can_read(uid, project) and can_see(world, uid, issue)]


def subscribed(world: World, issue: Row, user_id: int) -> bool:
    """Subscribable#subscribed?: an explicit choice wins; otherwise participants are subscribed."""
    rows = world.table("subscriptions")
    choice = next((s for s in rows if s["user_id"] == user_id and s["issue_id"] == issue["id"]), None)
    if choice is not None:
        return bool(choice["subscribed"])
    return any(p["id"] == user_id for p in participants(world, issue, user_id))


def _set_subscription(world: World, issue: Row, user_id: int, value: bool) -> None:
    rows = world.table("subscriptions")
    rows[:] = [s for s in rows if not (s["user_id"] == user_id and s["issue_id"] == issue["id"])]
    rows.append({"user_id": user_id, "issue_id": issue["id"], "subscribed": value})


async def _subscription(call: Call, value: bool) -> Response:
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()  # IssuesFinder#find_by! raises RecordNotFound
    if subscribed(call.world, issue, call.user_id) == value:
        return Response(status_code=304)  # not_modified!
    _set_subscription(call.world, issue, call.user_id, value)
    return JSONResponse({**issue, "subscribed": value}, status_code=201)


async def subscribe(call: Call) -> Response:
    return await _subscription(call, True)


async def unsubscribe(call: Call) -> Response:
    return await _subscription(call, False)


async def list_participants(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    return paginate(call, participants(call.world, issue, call.user_id))


# --- seed ------------------------------------------------------------------------------------------
def seed(world: World) -> None:
    app_1 = next(i for i in world.table("issues") if i["project_id"] == 101 and i["iid"] == 1)
    upvotes = app_1["upvotes"]
    add_reaction(world, app_1, "Issue", user_id=2, name="thumbsup", at="2024-04-01T11:01:00.000Z")
    add_reaction(world, app_1, "Issue", user_id=1, name="eyes", at="2024-04-01T11:02:00.000Z")
    app_1["upvotes"] = upvotes  # the issues area already counts bob's vote
    login = find_merge_request(world, 101, 1)
    assert login is not None
    add_reaction(world, login, "MergeRequest", user_id=1, name="rocket", at="2024-04-20T17:00:00.000Z")
