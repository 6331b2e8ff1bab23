"""Time tracking on issues and merge requests, your status and events, merge request notes and pipeline
variables: everyday operations the area modules lack (doc/api/issues.md#time-tracking, users.md,
events.md, notes.md, pipelines.md#get-variables-of-a-pipeline)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import pick
from mcp_bridge.tools.reactions import Target, issuable
from mcp_bridge.tools.users import Day, EventAction, EventTarget, event, event_params

TIME_FIELDS = ("time_estimate", "total_time_spent", "human_time_estimate", "human_total_time_spent")
STATUS_FIELDS = ("emoji", "message", "availability", "clear_status_at")
NOTE_FIELDS = ("id", "type", "body", "author", "created_at", "updated_at", "system")
Duration = Annotated[
    str, Field(description="GitLab duration: '3h30m', '2d' (8h days), '1w' (5d weeks).", min_length=1, max_length=50)
]


async def _time(project: str, target: str, iid: int, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    path, what = issuable(project, target, iid)
    return pick(await gitlab().post(f"{path}/{action}", what=what, json=body), TIME_FIELDS)


@tool(
    READ,
    "issues",
    routes=(
        "GET /projects/:id/issues/:issue_iid/time_stats",
        "GET /projects/:id/merge_requests/:merge_request_iid/time_stats",
    ),
)
async def get_time_stats(project: ProjectRef, target: Target, iid: Iid) -> dict[str, Any]:
    """Time tracking of an issue or merge request: estimate and total time spent, in seconds and human form."""
    path, what = issuable(project, target, iid)
    return pick(await gitlab().get(f"{path}/time_stats", what=what), TIME_FIELDS)


@tool(
    WRITE,
    "issues",
    routes=(
        "POST /projects/:id/issues/:issue_iid/time_estimate",
        "POST /projects/:id/merge_requests/:merge_request_iid/time_estimate",
    ),
)
async def set_time_estimate(project: ProjectRef, target: Target, iid: Iid, duration: Duration) -> dict[str, Any]:
    """Set (replace) the time estimate of an issue or merge request (Reporter role). Returns the time stats."""
    return await _time(project, target, iid, "time_estimate", {"duration": duration})


@tool(
    WRITE,
    "issues",
    routes=(
        "POST /projects/:id/issues/:issue_iid/reset_time_estimate",
        "POST /projects/:id/merge_requests/:merge_request_iid/reset_time_estimate",
    ),
)
async def reset_time_estimate(project: ProjectRef, target: Target, iid: Iid) -> dict[str, Any]:
    """Remove the time estimate of an issue or merge request (Reporter role). Returns the time stats."""
    return await _time(project, target, iid, "reset_time_estimate")


@tool(
    WRITE,
    "issues",
    routes=(
        "POST /projects/:id/issues/:issue_iid/add_spent_time",
        "POST /projects/:id/merge_requests/:merge_request_iid/add_spent_time",
    ),
)
async def add_spent_time(
    project: ProjectRef,
    target: Target,
    iid: Iid,
    duration: Annotated[str, Field(description="E.g. '1h30m' (8h days, 5d weeks); '-30m' subtracts.", min_length=1)],
    summary: Annotated[str | None, Field(description="What the time was spent on.", max_length=255)] = None,
) -> dict[str, Any]:
    """Log time you spent on an issue or merge request (Reporter role). Returns the new time stats."""
    return await _time(project, target, iid, "add_spent_time", {"duration": duration, "summary": summary})


@tool(
    DESTRUCTIVE,
    "issues",
    routes=(
        "POST /projects/:id/issues/:issue_iid/reset_spent_time",
        "POST /projects/:id/merge_requests/:merge_request_iid/reset_spent_time",
    ),
)
async def reset_spent_time(project: ProjectRef, target: Target, iid: Iid) -> dict[str, Any]:
    """Reset the total time spent on an issue or merge request to zero, everyone's (Reporter role)."""
    return await _time(project, target, iid, "reset_spent_time")


# --- you --------------------------------------------------------------------------------------------
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
async def list_my_events(
    action: EventAction | None = None,
    target_type: EventTarget | None = None,
    after: Day = None,
    before: Day = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Your own recent activity (pushes, comments, opened/merged MRs and issues), newest first:
    e.g. to write a stand-up summary."""
    items, meta = await gitlab().page(
        "/events",
        what="Your events",
        page=page,
        per_page=per_page,
        params=event_params(action, target_type, after, before),
    )
    return {"items": [event(item) for item in items], **meta}


# --- merge request notes, pipeline variables ------------------------------------------------------
@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/notes",))
async def list_merge_request_notes(
    project: ProjectRef,
    iid: Iid,
    sort: Annotated[Literal["asc", "desc"], Field(description="asc = oldest first.")] = "asc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Every comment on a merge request as a flat timeline, including system notes (pushes, approvals,
    label changes; marked system=true). For threads and diff positions use list_merge_request_discussions."""
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/merge_requests/{iid}/notes",
        what=f"Merge request !{iid} in {project}",
        page=page,
        per_page=per_page,
        params={"sort": sort, "order_by": "created_at"},
    )
    notes = []
    for item in items:
        note = pick(item, NOTE_FIELDS)
        if item.get("resolvable"):
            note["resolved"] = item.get("resolved")
        notes.append(note)
    return {"items": notes, **meta}


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines/:pipeline_id/variables",))
async def list_pipeline_variables(
    project: ProjectRef,
    pipeline_id: Annotated[int, Field(description="Pipeline id (the number in .../-/pipelines/<id>).", ge=1)],
    page: Page = 1,
    per_page: PerPage = 100,
) -> dict[str, Any]:
    """The variables a pipeline was started with (by API, schedule or trigger; Developer role).
    Masked or hidden values are never shown."""
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/pipelines/{pipeline_id}/variables",
        what=f"Pipeline {pipeline_id} in {project}",
        page=page,
        per_page=per_page,
    )
    variables = []
    for item in items:
        variable = pick(item, ("key", "variable_type", "value"))
        if item.get("masked") or item.get("hidden"):
            variable["value"] = None
        variables.append(variable)
    return {"items": variables, **meta}
