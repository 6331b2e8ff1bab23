"""Time tracking on issues and merge requests: estimates and time spent
(doc/api/issues.md#time-tracking, doc/api/merge_requests.md#time-tracking)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, ProjectRef
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import pick
from mcp_bridge.tools.reactions import Target, issuable, issuable_routes

TIME_FIELDS = ("time_estimate", "total_time_spent", "human_time_estimate", "human_total_time_spent")
Duration = Annotated[
    str, Field(description="GitLab duration: '3h30m', '2d' (8h days), '1w' (5d weeks).", min_length=1, max_length=50)
]


async def _time(project: str, target: str, iid: int, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    path, what = issuable(project, target, iid)
    return pick(await gitlab().post(f"{path}/{action}", what=what, json=body), TIME_FIELDS)


@tool(READ, "issues", routes=issuable_routes("GET", "time_stats"))
async def get_time_stats(project: ProjectRef, target: Target, iid: Iid) -> dict[str, Any]:
    """Time tracking of an issue or merge request: estimate and total time spent, in seconds and human form."""
    path, what = issuable(project, target, iid)
    return pick(await gitlab().get(f"{path}/time_stats", what=what), TIME_FIELDS)


@tool(WRITE, "issues", routes=issuable_routes("POST", "time_estimate"))
async def set_time_estimate(project: ProjectRef, target: Target, iid: Iid, duration: Duration) -> dict[str, Any]:
    """Set (replace) the time estimate of an issue or merge request (Reporter role). Returns the time stats."""
    return await _time(project, target, iid, "time_estimate", {"duration": duration})


@tool(WRITE, "issues", routes=issuable_routes("POST", "reset_time_estimate"))
async def reset_time_estimate(project: ProjectRef, target: Target, iid: Iid) -> dict[str, Any]:
    """Remove the time estimate of an issue or merge request (Reporter role). Returns the time stats."""
    return await _time(project, target, iid, "reset_time_estimate")


@tool(WRITE, "issues", routes=issuable_routes("POST", "add_spent_time"))
async def add_spent_time(
    project: ProjectRef,
    target: Target,
    iid: Iid,
    duration: Annotated[str, Field(description="E.g. '1h30m' (8h days, 5d weeks); '-30m' subtracts.", min_length=1)],
    summary: Annotated[str | None, Field(description="What the time was spent on.", max_length=255)] = None,
) -> dict[str, Any]:
    """Log time you spent on an issue or merge request (Reporter role). Returns the new time stats."""
    return await _time(project, target, iid, "add_spent_time", {"duration": duration, "summary": summary})


@tool(DESTRUCTIVE, "issues", routes=issuable_routes("POST", "reset_spent_time"))
async def reset_spent_time(project: ProjectRef, target: Target, iid: Iid) -> dict[str, Any]:
    """Reset the total time spent on an issue or merge request to zero, everyone's (Reporter role)."""
    return await _time(project, target, iid, "reset_spent_time")
