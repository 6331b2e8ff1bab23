"""Pipeline schedules: list, create, change, delete and run one now (doc/api/pipeline_schedules.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import NewDescription, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick

ScheduleId = Annotated[int, Field(description="Pipeline schedule id.", ge=1)]
Cron = Annotated[str, Field(description="Cron line, e.g. '0 2 * * *' (02:00 daily).", min_length=9)]
Timezone = Annotated[str | None, Field(description="e.g. 'UTC' or 'Europe/Berlin'.")]
SCHEDULE_FIELDS = ("id", "description", "ref", "cron", "cron_timezone", "next_run_at", "active", "owner")


def _schedule(data: dict[str, Any]) -> dict[str, Any]:
    schedule = pick(data, SCHEDULE_FIELDS)
    if "last_pipeline" in data:  # single-schedule answers only
        last = data["last_pipeline"]
        schedule["last_pipeline"] = pick(last, ("id", "status")) if isinstance(last, dict) else None
    return schedule


def _schedules(project: str) -> str:
    return f"/projects/{path_id(project)}/pipeline_schedules"


@tool(READ, "pipelines", routes=("GET /projects/:id/pipeline_schedules",))
async def list_pipeline_schedules(
    project: ProjectRef,
    scope: Literal["active", "inactive"] | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's pipeline schedules: description, ref, cron, timezone, next run, active, owner."""
    return await listed(
        _schedules(project), f"Pipeline schedules of {project}", page, per_page, _schedule, {"scope": scope}
    )


@tool(WRITE, "pipelines", routes=("POST /projects/:id/pipeline_schedules",))
async def create_pipeline_schedule(
    project: ProjectRef,
    description: Annotated[str, Field(description="What the schedule is for.", min_length=1)],
    ref: Annotated[str, Field(description="Branch or tag to run on.", min_length=1)],
    cron: Cron,
    cron_timezone: Timezone = None,
    active: Annotated[bool, Field(description="False to create it paused.")] = True,
) -> dict[str, Any]:
    """Schedule pipelines on a ref with a cron line (Developer role); you become its owner."""
    body = {"description": description, "ref": ref, "cron": cron, "cron_timezone": cron_timezone, "active": active}
    data = await gitlab().post(_schedules(project), what=f"Pipeline schedule in {project}", json=body)
    return _schedule(data)


@tool(WRITE, "pipelines", routes=("PUT /projects/:id/pipeline_schedules/:pipeline_schedule_id",))
async def update_pipeline_schedule(
    project: ProjectRef,
    schedule_id: ScheduleId,
    description: NewDescription = None,
    ref: Annotated[str | None, Field(description="New branch or tag.")] = None,
    cron: Annotated[str | None, Field(description="New cron line, e.g. '0 2 * * *'.")] = None,
    cron_timezone: Timezone = None,
    active: Annotated[bool | None, Field(description="Resume (true) or pause (false) it.")] = None,
) -> dict[str, Any]:
    """Change a pipeline schedule you own: description, ref, cron, timezone, or pause/resume it."""
    body = {"description": description, "ref": ref, "cron": cron, "cron_timezone": cron_timezone, "active": active}
    data = await gitlab().put(
        f"{_schedules(project)}/{schedule_id}", what=f"Pipeline schedule {schedule_id} in {project}", json=body
    )
    return _schedule(data)


@tool(DESTRUCTIVE, "pipelines", routes=("DELETE /projects/:id/pipeline_schedules/:pipeline_schedule_id",))
async def delete_pipeline_schedule(project: ProjectRef, schedule_id: ScheduleId) -> dict[str, Any]:
    """Delete a pipeline schedule (its owner or a Maintainer). Pipelines it already ran stay."""
    await gitlab().delete(f"{_schedules(project)}/{schedule_id}", what=f"Pipeline schedule {schedule_id} in {project}")
    return {"deleted": True, "schedule_id": schedule_id}


@tool(WRITE, "pipelines", routes=("POST /projects/:id/pipeline_schedules/:pipeline_schedule_id/play",))
async def run_pipeline_schedule(project: ProjectRef, schedule_id: ScheduleId) -> dict[str, Any]:
    """Run a pipeline schedule now (Developer role); its next scheduled run is unchanged."""
    await gitlab().post(
        f"{_schedules(project)}/{schedule_id}/play", what=f"Pipeline schedule {schedule_id} in {project}"
    )
    # GitLab queues the run and answers 201 {"message": "201 Created"} without the pipeline.
    return {"started": True, "schedule_id": schedule_id, "hint": "Find it with list_pipelines(source='schedule')."}
