"""What belongs to a merge request: its commits, pipelines, the issues it closes and its participants
(doc/api/merge_requests.md)."""

from __future__ import annotations

from typing import Any

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, tool
from mcp_bridge.shaping import listing
from mcp_bridge.tools.merge_requests.requests import PIPELINE_FIELDS

COMMIT_FIELDS = ("id", "short_id", "title", "author_name", "authored_date", "web_url")
USER_FIELDS = ("id", "username", "name")
ISSUE_FIELDS = ("iid", "title", "state", "labels", "assignees", "web_url")


async def _mr_page(project: str, iid: int, suffix: str, page: int, per_page: int) -> tuple[list[Any], dict[str, Any]]:
    path = f"/projects/{path_id(project)}/merge_requests/{iid}/{suffix}"
    return await gitlab().page(path, what=f"Merge request !{iid} in {project}", page=page, per_page=per_page)


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/commits",))
async def list_merge_request_commits(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """The commits of a merge request, newest first: SHA, title, author and date of each."""
    return listing(*await _mr_page(project, iid, "commits", page, per_page), COMMIT_FIELDS)


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/pipelines",))
async def list_merge_request_pipelines(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """The pipelines run for a merge request, newest first: id, status, ref and SHA of each."""
    return listing(*await _mr_page(project, iid, "pipelines", page, per_page), (*PIPELINE_FIELDS, "created_at"))


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/closes_issues",))
async def get_merge_request_closes_issues(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """The issues that merging this MR will close ('Closes #12' in its description or commits)."""
    return listing(*await _mr_page(project, iid, "closes_issues", page, per_page), ISSUE_FIELDS)


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/participants",))
async def list_merge_request_participants(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """The people involved in a merge request: author, assignees, reviewers, commenters."""
    return listing(*await _mr_page(project, iid, "participants", page, per_page), USER_FIELDS)
