"""Reviewing a merge request beyond its diff and threads: its conflicts, who reviews it and how far
they got, its diff versions (one per push), cancelling auto-merge and starting a merge request
pipeline (doc/api/merge_requests.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import listed, pick
from mcp_bridge.tools.merge_requests.changes import DiffStart, PathPatterns, diff_page
from mcp_bridge.tools.merge_requests.discussions import mr_path
from mcp_bridge.tools.merge_requests.merging import MERGED_FIELDS
from mcp_bridge.tools.pipelines.runs import pipeline_summary

MAX_CONFLICT_CHARS = 20_000  # of one file's conflict text
MAX_CONFLICT_TOTAL = 60_000  # of all conflict text in one call
VERSION_FIELDS = ("id", "head_commit_sha", "base_commit_sha", "start_commit_sha", "created_at", "real_size")
MR = "/projects/:id/merge_requests/:merge_request_iid"


@tool(READ, "merge_requests", routes=(f"GET {MR}/conflicts",))
async def get_merge_request_conflicts(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """The files a merge request conflicts in, each with git's conflict markers (<<<<<<< target, =======,
    >>>>>>> source) and the line where the conflict starts, to resolve locally and push. Developer role."""
    path, what = mr_path(project, iid)
    files = await gitlab().get(f"{path}/conflicts", what=f"Conflicts of {what}")
    budget, out, cut = MAX_CONFLICT_TOTAL, [], []
    for file in files:
        entry = pick(file, ("old_path", "new_path", "conflict_type", "first_line"))
        content = str(file.get("content") or "")
        limit = min(MAX_CONFLICT_CHARS, max(budget, 0))
        entry["content"] = content[:limit]
        if len(content) > limit:
            entry["truncated"] = True
            cut.append(entry["new_path"])
        budget -= len(entry["content"])
        out.append(entry)
    result: dict[str, Any] = {"iid": iid, "files": out}
    if cut:
        result["hint"] = f"Conflict text cut to fit: {', '.join(cut[:10])}. Read those files on the source branch."
    return result


@tool(READ, "merge_requests", routes=(f"GET {MR}/reviewers",))
async def list_merge_request_reviewers(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """The reviewers of a merge request and each one's review state: unreviewed, review_started,
    reviewed, requested_changes, approved or unapproved."""
    path, what = mr_path(project, iid)
    reviewers = await gitlab().get(f"{path}/reviewers", what=what)
    items = [{"username": (r.get("user") or {}).get("username"), **pick(r, ("state", "created_at"))} for r in reviewers]
    return {"iid": iid, "items": items}


@tool(READ, "merge_requests", routes=(f"GET {MR}/versions",))
async def list_merge_request_versions(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """The diff versions of a merge request (one per push), newest first: id, head/base/start SHAs, date.
    Read one with get_merge_request_version to review what changed in an earlier push."""
    path, what = mr_path(project, iid)
    return await listed(f"{path}/versions", what, page, per_page, VERSION_FIELDS)


@tool(READ, "merge_requests", routes=(f"GET {MR}/versions/:version_id",))
async def get_merge_request_version(
    project: ProjectRef,
    iid: Iid,
    version_id: Annotated[int, Field(description="Version id, from list_merge_request_versions.", ge=1)],
    paths: PathPatterns = None,
    exclude_paths: PathPatterns = None,
    start_line: DiffStart = 1,
) -> dict[str, Any]:
    """One diff version of a merge request: its SHAs, commits and the diffs as of that push, capped like
    get_merge_request_changes (10,000 characters per file, 50,000 per call)."""
    path, what = mr_path(project, iid)
    data = await gitlab().get(f"{path}/versions/{version_id}", what=f"Version {version_id} of {what}")
    result = pick(data, VERSION_FIELDS)
    result["commits"] = [pick(c, ("short_id", "title", "author_name")) for c in data.get("commits") or []]
    meta: dict[str, int | None] = {}
    return result | diff_page(list(data.get("diffs") or []), meta, paths, exclude_paths, start_line)


@tool(WRITE, "merge_requests", routes=(f"POST {MR}/cancel_merge_when_pipeline_succeeds",))
async def cancel_auto_merge(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Stop a merge request from merging automatically when its pipeline succeeds (undo auto_merge=true).
    Fails if it was not set to merge automatically."""
    path, what = mr_path(project, iid)
    data = await gitlab().post(f"{path}/cancel_merge_when_pipeline_succeeds", what=f"Auto-merge of {what}")
    return pick(data, MERGED_FIELDS)


@tool(WRITE, "merge_requests", routes=(f"POST {MR}/pipelines",))
async def create_merge_request_pipeline(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Run a new merge request pipeline (on refs/merge-requests/<iid>/head; the project's CI must define
    merge request pipelines). Returns the pipeline; follow it with wait_for_pipeline."""
    path, what = mr_path(project, iid)
    return pipeline_summary(await gitlab().post(f"{path}/pipelines", what=what))
