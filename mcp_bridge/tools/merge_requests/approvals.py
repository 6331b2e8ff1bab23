"""Approving a merge request, and who has (doc/api/merge_request_approvals.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.errors import GitLabRejected
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import pick

APPROVAL_FIELDS = ("approved", "approvals_required", "approvals_left", "user_has_approved", "user_can_approve")


def _approvals(iid: int, data: dict[str, Any]) -> dict[str, Any]:
    result = {"iid": iid, **pick(data, APPROVAL_FIELDS)}
    result["approved_by"] = [(a.get("user") or {}).get("username") for a in data.get("approved_by") or []]
    return result


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/approvals",))
async def get_merge_request_approvals(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Approval state of a merge request: approved, approvals required and left, who approved, and whether
    you have approved or may approve."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}/approvals"
    return _approvals(iid, await gitlab().get(path, what=f"Merge request !{iid} in {project}"))


@tool(
    WRITE,
    "merge_requests",
    routes=(
        "GET /projects/:id/merge_requests/:merge_request_iid/approvals",
        "POST /projects/:id/merge_requests/:merge_request_iid/approve",
    ),
)
async def approve_merge_request(
    project: ProjectRef,
    iid: Iid,
    sha: Annotated[str | None, Field(description="Head SHA you reviewed; fails if the branch moved.")] = None,
) -> dict[str, Any]:
    """Approve a merge request as yourself. Returns the approval state afterwards."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}"
    what = f"Merge request !{iid} in {project}"
    # GitLab answers 401 when the approval is not allowed, which reads like a bad token: ask first.
    state = await gitlab().get(f"{path}/approvals", what=what)
    if state.get("user_has_approved"):
        return _approvals(iid, state) | {"hint": "You had already approved it."}
    if state.get("user_can_approve") is False:
        raise GitLabRejected(
            f"You may not approve {what}: it is not open, you lack the Developer role, or the project does "
            "not let authors or committers approve their own merge requests.",
            403,
        )
    return _approvals(iid, await gitlab().post(f"{path}/approve", what=what, json={"sha": sha}))


@tool(WRITE, "merge_requests", routes=("POST /projects/:id/merge_requests/:merge_request_iid/unapprove",))
async def unapprove_merge_request(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Withdraw your approval of a merge request. Returns the approval state afterwards."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}/unapprove"
    what = f"Your approval of merge request !{iid} in {project}"
    return _approvals(iid, await gitlab().post(path, what=what))
