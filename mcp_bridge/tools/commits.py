"""Commits: read one and its diff, pick or revert it onto a branch, its statuses, MRs and comments
(doc/api/commits.md). Listing a branch's commits is list_commits in the repository toolset."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Comment, Page, PerPage, ProjectRef, Ref, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import listed, pick
from mcp_bridge.tools.merge_requests.changes import diffs
from mcp_bridge.tools.merge_requests.requests import LIST_FIELDS as MR_FIELDS

COMMIT_FIELDS = (
    "id",
    "short_id",
    "title",
    "message",
    "author_name",
    "author_email",
    "authored_date",
    "committer_name",
    "committed_date",
    "parent_ids",
    "web_url",
)
STATUS_FIELDS = ("id", "name", "status", "ref", "description", "target_url", "allow_failure", "created_at", "author")
NOTE_FIELDS = ("note", "author", "path", "line", "line_type", "created_at")

Branch = Annotated[str, Field(description="Name of the branch to commit onto.", min_length=1)]
DryRun = Annotated[bool, Field(description="Only check that it would apply; commit nothing.")]
FullSha = Annotated[str, Field(description="Full 40-character commit SHA.", min_length=40, max_length=40)]


def _path(project: str, sha: str, suffix: str = "") -> str:
    return f"/projects/{path_id(project)}/repository/commits/{path_id(sha)}{suffix}"


def _what(project: str, sha: str) -> str:
    return f"Commit {sha} in {project}"


@tool(READ, "commits", routes=("GET /projects/:id/repository/commits/:sha",))
async def get_commit(project: ProjectRef, sha: Ref) -> dict[str, Any]:
    """Get one commit: full message, author, dates, parent SHAs (two for a merge), lines added/removed and
    the status of its latest pipeline. Read its changes with get_commit_diff."""
    data = await gitlab().get(_path(project, sha), what=_what(project, sha))
    result = pick(data, (*COMMIT_FIELDS, "stats", "status"))
    pipeline = data.get("last_pipeline")
    result["last_pipeline"] = pick(pipeline, ("id", "status", "ref", "web_url")) if pipeline else None
    return result


@tool(READ, "commits", routes=("GET /projects/:id/repository/commits/:sha/diff",))
@shared_parameters(diffs, after="what")
async def get_commit_diff(project: ProjectRef, sha: Ref, **reading: Any) -> dict[str, Any]:
    """The changes of one commit, a page of files at a time: paths, new/renamed/deleted flags, diff text.
    Capped (10,000 characters per file, 50,000 per call); when `truncated`, `hint` says how to read on."""
    return {"sha": sha, **await diffs(_path(project, sha, "/diff"), _what(project, sha), **reading)}


@tool(WRITE, "commits", routes=("POST /projects/:id/repository/commits/:sha/cherry_pick",))
async def cherry_pick_commit(
    project: ProjectRef,
    sha: Ref,
    branch: Branch,
    message: Annotated[str | None, Field(description="Commit message; default: the original's.")] = None,
    dry_run: DryRun = False,
) -> dict[str, Any]:
    """Apply a commit's changes onto a branch as a new commit (git cherry-pick). Returns the new commit;
    fails with GitLab's reason when it conflicts or is already there."""
    body = {"branch": branch, "message": message, "dry_run": dry_run or None}
    data = await gitlab().post(_path(project, sha, "/cherry_pick"), what=_what(project, sha), json=body)
    return data if dry_run else pick(data, COMMIT_FIELDS)


@tool(WRITE, "commits", routes=("POST /projects/:id/repository/commits/:sha/revert",))
async def revert_commit(project: ProjectRef, sha: Ref, branch: Branch, dry_run: DryRun = False) -> dict[str, Any]:
    """Undo a commit on a branch with a new commit that reverses its changes (git revert). Returns the new
    commit; fails with GitLab's reason when it conflicts or was already reverted."""
    body = {"branch": branch, "dry_run": dry_run or None}
    data = await gitlab().post(_path(project, sha, "/revert"), what=_what(project, sha), json=body)
    return data if dry_run else pick(data, COMMIT_FIELDS)


@tool(READ, "commits", routes=("GET /projects/:id/repository/commits/:sha/statuses",))
async def list_commit_statuses(
    project: ProjectRef,
    sha: FullSha,
    ref: Annotated[str | None, Field(description="Only statuses for this branch or tag.")] = None,
    name: Annotated[str | None, Field(description="Only the status (CI job or external check) of this name.")] = None,
    all: Annotated[bool, Field(description="Include older, retried statuses.")] = False,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """The CI job and external check statuses reported for a commit (latest per name unless all=true):
    name, status, ref, description and link of each, plus pagination."""
    params = {"ref": ref, "name": name, "all": all or None}
    return await listed(_path(project, sha, "/statuses"), _what(project, sha), page, per_page, STATUS_FIELDS, params)


@tool(READ, "commits", routes=("GET /projects/:id/repository/commits/:sha/merge_requests",))
async def list_commit_merge_requests(
    project: ProjectRef,
    sha: Ref,
    state: Literal["opened", "closed", "merged", "locked"] | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """The merge requests that contain a commit (or merged it): which MR brought this change in."""
    return await listed(
        _path(project, sha, "/merge_requests"), _what(project, sha), page, per_page, MR_FIELDS, {"state": state}
    )


@tool(READ, "commits", routes=("GET /projects/:id/repository/commits/:sha/comments",))
async def list_commit_comments(project: ProjectRef, sha: Ref, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """The comments on a commit, oldest first: text, author, and the file line when on a diff line."""
    return await listed(_path(project, sha, "/comments"), _what(project, sha), page, per_page, NOTE_FIELDS)


@tool(WRITE, "commits", routes=("POST /projects/:id/repository/commits/:sha/comments",))
async def create_commit_comment(
    project: ProjectRef,
    sha: Ref,
    note: Comment,
    path: Annotated[str | None, Field(description="File to comment on; with line.")] = None,
    line: Annotated[int | None, Field(description="Line number in that file's diff; with path.", ge=1)] = None,
    line_type: Annotated[
        Literal["new", "old"], Field(description="new: line of the new file; old: removed line.")
    ] = "new",
) -> dict[str, Any]:
    """Comment on a commit as yourself, on the whole commit or on one line of its diff (path + line).
    A line not in the diff makes a plain comment (path and line come back null)."""
    body: dict[str, Any] = {"note": note}
    if path is not None and line is not None:
        body |= {"path": path, "line": line, "line_type": line_type}
    data = await gitlab().post(_path(project, sha, "/comments"), what=_what(project, sha), json=body)
    return pick(data, NOTE_FIELDS)
