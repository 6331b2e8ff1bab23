"""Simulated GitLab API: users, events (activity) and to-do items.

doc/api/users.md, doc/api/events.md, doc/api/todos.md. State: `world.table("events")` (GitLab's event JSON)
and `world.table("todos")` (GitLab's to-do JSON plus `user_id`, whose to-do it is, never shown).

Seed: nine events in acme/app, acme/website and bob/secret (none by charlie); alice has four to-do items
(three pending), bob has two.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.http import Call, Router, error, invalid_value, not_found, paginate
from tests.gitlab_sim.world import SIM_URL, World, now

PUBLIC_USER = ("id", "username", "name", "state", "locked", "avatar_url", "web_url")
HIDDEN_FROM_OTHERS = ("email", "is_admin")
# doc/api/events.md: the `action` filter and the action_name each action shows as.
ACTIONS = {"approved": ("approved",), "closed": ("closed",), "commented": ("commented on",)}
ACTIONS |= {"created": ("created", "opened"), "destroyed": ("destroyed",), "expired": ("expired",)}
ACTIONS |= {"joined": ("joined",), "left": ("left",), "merged": ("accepted",), "pushed": ("pushed to", "pushed new")}
ACTIONS |= {"reopened": ("reopened",), "updated": ("updated",)}
TARGET_TYPES = {"issue": ("Issue",), "milestone": ("Milestone",), "merge_request": ("MergeRequest",)}
TARGET_TYPES |= {"note": ("Note", "DiffNote", "DiscussionNote"), "project": (None,), "snippet": ("Snippet",)}
TARGET_TYPES |= {"user": ("User",)}
TODO_TYPES = ("Issue", "MergeRequest", "Commit", "Epic", "DesignManagement::Design", "AlertManagement::Alert")
TODO_TYPES += ("Project", "Namespace", "Vulnerability", "WikiPage::Meta")
TODO_ACTIONS = ("assigned", "mentioned", "build_failed", "marked", "approval_required", "unmergeable")
TODO_ACTIONS += ("directly_addressed", "merge_train_removed", "review_requested", "member_access_requested")
TODO_ACTIONS += ("review_submitted",)


def register(router: Router) -> None:
    router.route("GET", "/user")(current_user)
    router.route("GET", "/users")(list_users)
    router.route("GET", "/users/:id")(get_user)
    router.route("GET", "/users/:id/events")(list_user_events)
    router.route("GET", "/projects/:id/events")(list_project_events)
    router.route("GET", "/todos")(list_todos)
    router.route("POST", "/todos/mark_as_done")(mark_all_done)
    router.route("POST", "/todos/:id/mark_as_done")(mark_done)


def seed(world: World) -> None:
    events = world.table("events")
    for n, (pid, uid, action, target, when, extra) in enumerate(EVENTS, start=1):
        target_type, iid, title = target or (None, None, None)
        row = {"id": n, "project_id": pid, "action_name": action, "target_id": 5000 + n if target else None}
        row |= {"target_iid": iid, "target_type": target_type, "author_id": uid, "target_title": title}
        row |= {"created_at": when, "author": world.user_ref(uid), "author_username": world.users[uid]["username"]}
        events.append(row | {"imported": False, "imported_from": "none"} | extra)
    todos = world.table("todos")
    for n, (owner, pid, author, action, kind, iid, title, when, state) in enumerate(TODOS, start=1):
        project = world.projects[pid]
        full, section = project["path_with_namespace"], "issues" if kind == "Issue" else "merge_requests"
        url = f"{SIM_URL}/{full}/-/{section}/{iid}"
        target = {"id": 6000 + n, "iid": iid, "project_id": pid, "title": title, "state": "opened", "web_url": url}
        keys = ("id", "name", "name_with_namespace", "path", "path_with_namespace")
        row = {"user_id": owner, "id": n, "project": {k: project[k] for k in keys}, "author": world.user_ref(author)}
        row |= {"action_name": action, "target_type": kind, "target": target, "target_url": url, "body": title}
        todos.append(row | {"state": state, "created_at": when, "updated_at": when})


# --- users ------------------------------------------------------------------------------------------
def _find_user(world: World, ref: str) -> dict[str, Any] | None:
    """By id or username (the events endpoint takes either)."""
    return world.users.get(int(ref)) if ref.isdigit() else world.by_username(ref)


async def current_user(call: Call) -> Response:
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    return JSONResponse(call.world.users[call.user_id])


async def get_user(call: Call) -> Response:
    user = call.world.users.get(int(call.params["id"])) if call.params["id"].isdigit() else None
    if user is None:
        return not_found("User")
    public = {k: v for k, v in user.items() if k not in HIDDEN_FROM_OTHERS}
    return JSONResponse(public)


async def list_users(call: Call) -> Response:
    users = list(call.world.users.values())
    if username := call.arg("username"):
        users = [u for u in users if u["username"].lower() == username.lower()]
    if search := (call.arg("search") or "").lower():
        # Non-admins match name and username (and public email, which nobody in the seed has).
        users = [u for u in users if search in u["username"].lower() or search in u["name"].lower()]
    if call.flag("active"):
        users = [u for u in users if u["state"] == "active"]
    order = call.arg("order_by", "id")
    if order not in ("id", "name", "username", "created_at", "updated_at"):
        return invalid_value("order_by")
    users.sort(key=lambda u: u.get(order) or "", reverse=call.arg("sort", "desc") != "asc")
    return paginate(call, [{k: u[k] for k in PUBLIC_USER} for u in users])


# --- events -----------------------------------------------------------------------------------------
def _events(call: Call, rows: list[dict[str, Any]]) -> Response:
    """The filters of doc/api/events.md, on events in projects the caller can see; newest first."""
    world = call.world
    rows = [e for e in rows if (p := world.projects.get(e["project_id"])) and world.can_read(call.user_id, p)]
    if (action := call.arg("action")) is not None:
        if action not in ACTIONS:
            return invalid_value("action")
        rows = [e for e in rows if e["action_name"] in ACTIONS[action]]
    if (target := call.arg("target_type")) is not None:
        if target not in TARGET_TYPES:
            return invalid_value("target_type")
        rows = [e for e in rows if e["target_type"] in TARGET_TYPES[target]]
    # before/after are dates, both exclusive (doc/api/events.md).
    if before := call.arg("before"):
        rows = [e for e in rows if e["created_at"][:10] < before]
    if after := call.arg("after"):
        rows = [e for e in rows if e["created_at"][:10] > after]
    sort = call.arg("sort", "desc")
    if sort not in ("asc", "desc"):
        return invalid_value("sort")
    return paginate(call, sorted(rows, key=lambda e: (e["created_at"], e["id"]), reverse=sort == "desc"))


async def list_user_events(call: Call) -> Response:
    user = _find_user(call.world, call.params["id"])
    if user is None:
        return not_found("User")
    return _events(call, [e for e in call.world.table("events") if e["author_id"] == user["id"]])


async def list_project_events(call: Call) -> Response:
    project = call.world.find_project(call.params["id"])
    if project is None or not call.world.can_read(call.user_id, project):
        return not_found("Project")
    return _events(call, [e for e in call.world.table("events") if e["project_id"] == project["id"]])


# --- to-do items ------------------------------------------------------------------------------------
def _todo(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "user_id"}


async def list_todos(call: Call) -> Response:
    todos = [t for t in call.world.table("todos") if t["user_id"] == call.user_id]
    state = call.arg("state", "pending")
    if state not in ("pending", "done"):
        return invalid_value("state")
    todos = [t for t in todos if t["state"] == state]
    if (kind := call.arg("type")) is not None:
        if kind not in TODO_TYPES:
            return invalid_value("type")
        todos = [t for t in todos if t["target_type"] == kind]
    if (action := call.arg("action")) is not None:
        if action not in TODO_ACTIONS:
            return invalid_value("action")
        todos = [t for t in todos if t["action_name"] == action]
    for key, pick in (("project_id", lambda t: t["project"]["id"]), ("author_id", lambda t: t["author"]["id"])):
        if (value := call.arg(key)) is not None:
            todos = [t for t in todos if str(pick(t)) == str(value)]
    todos.sort(key=lambda t: t["id"], reverse=True)
    return paginate(call, [_todo(t) for t in todos])


async def mark_done(call: Call) -> Response:
    todo = next(
        (t for t in call.world.table("todos") if str(t["id"]) == call.params["id"] and t["user_id"] == call.user_id),
        None,
    )
    if todo is None:
        return not_found()  # another user's to-do is ActiveRecord::RecordNotFound: "404 Not found"
    todo |= {"state": "done", "updated_at": now()}
    return JSONResponse(_todo(todo), status_code=201)


async def mark_all_done(call: Call) -> Response:
    for todo in call.world.table("todos"):
        if todo["user_id"] == call.user_id and todo["state"] == "pending":
            todo |= {"state": "done", "updated_at": now()}
    return Response(status_code=204)


PUSH_MAIN = {"commit_count": 1, "action": "pushed", "ref_type": "branch", "ref": "main", "ref_count": None}
PUSH_MAIN |= {"commit_title": "Document setup steps in README"}
PUSH_LOGIN = {**PUSH_MAIN, "ref": "feature/login", "action": "created", "commit_count": 2}
PUSH_LOGIN |= {"commit_title": "Mention login in README"}
NOTE = {"body": "Root cause: the SAML certificate expired.", "noteable_type": "Issue", "noteable_iid": 1}
EVENTS: tuple[tuple[int, int, str, tuple[str, int, str] | None, str, dict[str, Any]], ...] = (
    (101, 1, "pushed to", None, "2024-03-01T10:05:00.000Z", {"push_data": PUSH_MAIN}),
    (101, 2, "pushed new", None, "2024-03-06T09:30:00.000Z", {"push_data": PUSH_LOGIN}),
    (101, 2, "opened", ("MergeRequest", 1, "Add a login page"), "2024-04-01T10:00:00.000Z", {}),
    (101, 1, "commented on", ("Note", 1, "Login fails with SSO"), "2024-04-01T12:00:00.000Z", {"note": NOTE}),
    (102, 1, "opened", ("Issue", 1, "Typo on the homepage"), "2024-04-02T09:00:00.000Z", {}),
    (104, 2, "opened", ("Issue", 1, "Secret launch plan"), "2024-04-03T09:00:00.000Z", {}),
    (101, 1, "accepted", ("MergeRequest", 2, "Fix crash on empty config"), "2024-04-12T16:00:00.000Z", {}),
    (101, 2, "opened", ("Issue", 24, "Flaky test in the billing suite"), "2024-04-24T10:00:00.000Z", {}),
    (101, 1, "closed", ("Issue", 25, "Archive old projects automatically"), "2024-05-15T12:00:00.000Z", {}),
)  # fmt: skip
TODOS = (
    # owner, project, author, action, target type, iid, title, created, state
    (1, 101, 2, "directly_addressed", "Issue", 1, "Login fails with SSO", "2024-04-01T11:00:00.000Z", "pending"),
    (1, 101, 2, "mentioned", "MergeRequest", 4, "Regenerate test fixtures", "2024-04-15T16:00:00.000Z", "done"),
    (1, 101, 2, "review_requested", "MergeRequest", 1, "Add a login page", "2024-04-20T16:00:00.000Z", "pending"),
    (1, 101, 2, "assigned", "Issue", 24, "Flaky test in the billing suite", "2024-04-24T10:05:00.000Z", "pending"),
    (2, 101, 1, "review_requested", "MergeRequest", 6, "Add HTTP timeouts", "2024-04-22T16:00:00.000Z", "pending"),
    (2, 104, 2, "marked", "Issue", 1, "Secret launch plan", "2024-04-03T09:05:00.000Z", "pending"),
)
