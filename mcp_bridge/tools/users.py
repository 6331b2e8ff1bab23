"""Users, your status, activity and to-do items (doc/api/users.md, doc/api/events.md, doc/api/todos.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.errors import GitLabNotFound
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import listed, pick

USER_FIELDS = ("id", "username", "name", "state", "email", "web_url", "is_admin", "bot", "created_at")
PROFILE_FIELDS = (
    *("id", "username", "name", "state", "web_url", "bot", "created_at"),
    *("bio", "public_email", "job_title", "organization", "location"),
)
LIST_USER_FIELDS = ("id", "username", "name", "state", "web_url")
EVENT_FIELDS = ("id", "project_id", "action_name", "target_type", "target_iid", "target_title", "author", "created_at")
TODO_FIELDS = ("id", "action_name", "target_type", "target_url", "author", "body", "state", "created_at")

UserRef = Annotated[str, Field(description="User id or username (without the @).", min_length=1)]
EventAction = Literal[
    "approved", "closed", "commented", "created", "destroyed", "expired",
    "joined", "left", "merged", "pushed", "reopened", "updated",
]  # fmt: skip
EventTarget = Literal["issue", "milestone", "merge_request", "note", "project", "snippet", "user"]
TodoAction = Literal[
    "assigned", "mentioned", "build_failed", "marked", "approval_required", "unmergeable",
    "directly_addressed", "review_requested", "review_submitted",
]  # fmt: skip
Day = Annotated[str | None, Field(description="YYYY-MM-DD (exclusive).", pattern=r"^\d{4}-\d{2}-\d{2}$")]


def event(data: dict[str, Any]) -> dict[str, Any]:
    """An event trimmed for the model: pushes keep their ref and commit title, comments their text."""
    out = pick(data, EVENT_FIELDS)
    if isinstance(data.get("push_data"), dict):
        out["push_data"] = pick(data["push_data"], ("action", "ref_type", "ref", "commit_count", "commit_title"))
    if isinstance(data.get("note"), dict):
        note = pick(data["note"], ("body", "noteable_type", "noteable_iid"))
        note["body"] = str(note.get("body", ""))[:500]
        out["note"] = note
    return out


def event_filters(
    action: EventAction | None = None,
    target_type: EventTarget | None = None,
    after: Day = None,
    before: Day = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> None:
    """The parameters every events tool takes after its own (a project's, a user's, yours)."""


async def events_page(path: str, what: str, page: int, per_page: int, **filters: str | None) -> dict[str, Any]:
    """A page of the events at `path`, newest first; `filters` are event_filters' action, target type
    and dates."""
    return await listed(path, what, page, per_page, event, filters)


@tool(READ, "users", routes=("GET /user",))
async def get_current_user() -> dict[str, Any]:
    """Who you are in GitLab: id, username, name and email of the account the tools act as.
    Use it to resolve "me" before filtering issues or merge requests by author or assignee."""
    return pick(await gitlab().get("/user", what="The current user"), USER_FIELDS)


@tool(
    READ,
    "users",
    routes=(
        "GET /users",
        "GET /users/:id",
    ),
)
async def get_user(user: UserRef) -> dict[str, Any]:
    """Get a user's public profile by id or username: name, state, bio and web URL."""
    user_id = user
    if not user.isdigit():
        # GET /users/:id takes only ids; the list filters by exact username (doc/api/users.md).
        found = await gitlab().get("/users", what=f"User {user}", params={"username": user.lstrip("@")})
        if not found:
            raise GitLabNotFound(f"User {user} not found or you have no access.", 404)
        user_id = str(found[0]["id"])
    return pick(await gitlab().get(f"/users/{user_id}", what=f"User {user}"), PROFILE_FIELDS)


@tool(READ, "users", routes=("GET /users",))
async def list_users(
    search: Annotated[str | None, Field(description="Text in the name or username.")] = None,
    active: Annotated[bool, Field(description="Only active (not blocked) users.")] = False,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Search users by name or username, e.g. to find the id to assign someone. Returns id, username, name."""
    params = {"search": search, "active": active or None}
    return await listed("/users", "Users", page, per_page, LIST_USER_FIELDS, params)


@tool(READ, "users", routes=("GET /users/:id/events",))
@shared_parameters(event_filters)
async def list_user_events(user: UserRef, **filters: Any) -> dict[str, Any]:
    """A user's recent activity (pushes, comments, opened/merged MRs and issues), newest first,
    in the projects you can see."""
    return await events_page(f"/users/{path_id(user)}/events", f"User {user}", **filters)


def _todo(data: dict[str, Any]) -> dict[str, Any]:
    todo = pick(data, TODO_FIELDS)
    if isinstance(data.get("project"), dict):
        todo["project"] = data["project"].get("path_with_namespace")
    if isinstance(data.get("target"), dict):
        todo["target"] = pick(data["target"], ("iid", "title", "state"))
    return todo


@tool(READ, "users", routes=("GET /todos",))
async def list_todos(
    state: Literal["pending", "done"] = "pending",
    type: Literal["Issue", "MergeRequest", "Commit", "Epic"] | None = None,
    action: TodoAction | None = None,
    project_id: Annotated[int | None, Field(description="Only to-dos of this project (numeric id).")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Your GitLab to-do list (pending by default, newest first): what needs your attention and why
    (assigned, mentioned, review requested...). Returns the target, project and author of each."""
    params = {"state": state, "type": type, "action": action, "project_id": project_id}
    return await listed("/todos", "Your to-do list", page, per_page, _todo, params)


@tool(WRITE, "users", routes=("POST /todos/:id/mark_as_done",))
async def mark_todo_done(
    todo_id: Annotated[int, Field(description="To-do id from list_todos.", ge=1)],
) -> dict[str, Any]:
    """Mark one of your to-do items as done. Returns the updated item."""
    return _todo(await gitlab().post(f"/todos/{todo_id}/mark_as_done", what=f"To-do {todo_id}"))


@tool(WRITE, "users", routes=("POST /todos/mark_as_done",))
async def mark_all_todos_done() -> dict[str, Any]:
    """Mark every pending item on your to-do list as done (clears the list)."""
    await gitlab().post("/todos/mark_as_done", what="Your to-do list")
    return {"done": True}


STATUS_FIELDS = ("emoji", "message", "availability", "clear_status_at")


@tool(READ, "users", routes=("GET /user/status",))
async def get_my_status() -> dict[str, Any]:
    """Your GitLab status: emoji, message, availability (busy or not_set) and when it clears."""
    return pick(await gitlab().get("/user/status", what="Your status"), STATUS_FIELDS)


@tool(WRITE, "users", routes=("PUT /user/status",))
async def set_my_status(
    message: Annotated[str | None, Field(description="Status text, up to 100 characters.", max_length=100)] = None,
    emoji: Annotated[str | None, Field(description="Emoji name, e.g. coffee; default speech_balloon.")] = None,
    availability: Literal["busy", "not_set"] | None = None,
    clear_status_after: Literal["30_minutes", "3_hours", "8_hours", "1_day", "3_days", "7_days", "30_days"]
    | None = None,
) -> dict[str, Any]:
    """Replace your GitLab status; omitted fields are cleared, so no arguments clears it. Returns the status."""
    body = {"message": message, "emoji": emoji, "availability": availability, "clear_status_after": clear_status_after}
    return pick(await gitlab().put("/user/status", what="Your status", json=body), STATUS_FIELDS)


@tool(READ, "users", routes=("GET /events",))
@shared_parameters(event_filters)
async def list_my_events(**filters: Any) -> dict[str, Any]:
    """Your own recent activity (pushes, comments, opened/merged MRs and issues), newest first:
    e.g. to write a stand-up summary."""
    return await events_page("/events", "Your events", **filters)
