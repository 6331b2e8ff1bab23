"""Merge requests: find them (in a project, a group, or yours everywhere), read one and its diffs in
capped pages, open and change them, approve them (doc/api/merge_requests.md,
doc/api/merge_request_approvals.md). Merging is in mcp_bridge/tools/merging.py."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.errors import GitLabRejected
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import line_window, listing, pick

LIST_FIELDS = (
    "iid",
    "title",
    "state",
    "draft",
    "author",
    "assignees",
    "reviewers",
    "source_branch",
    "target_branch",
    "labels",
    "detailed_merge_status",
    "updated_at",
    "web_url",
)
DETAIL_FIELDS = (
    *LIST_FIELDS,
    "id",
    "project_id",
    "description",
    "merge_status",
    "has_conflicts",
    "blocking_discussions_resolved",
    "sha",
    "merge_commit_sha",
    "squash_commit_sha",
    "merge_user",
    "merged_at",
    "closed_by",
    "closed_at",
    "created_at",
    "user_notes_count",
    "changes_count",
    "merge_error",
)
PIPELINE_FIELDS = ("id", "status", "ref", "sha", "web_url")
FILE_FIELDS = ("old_path", "new_path", "new_file", "renamed_file", "deleted_file")
FILE_MARKS = ("generated_file", "too_large", "collapsed")  # shown only when true
MAX_FILE_CHARS = 10_000  # of one file's diff text
MAX_TOTAL_CHARS = 50_000  # of all diff text in one call
MIN_USEFUL_CHARS = 1_000  # below this, a file's diff is left out rather than cut to a stub

PathPatterns = Annotated[
    list[str] | None,
    Field(description="Paths, folders ('src/') or globs ('*.py'); a file matches on its new or old path."),
]


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests",))
async def list_merge_requests(
    project: ProjectRef,
    state: Annotated[Literal["opened", "closed", "merged", "locked", "all"], Field(description="MR state.")] = "opened",
    labels: Annotated[list[str] | None, Field(description="Only MRs with all these labels.")] = None,
    search: Annotated[str | None, Field(description="Text to find in title or description.")] = None,
    author_username: Annotated[str | None, Field(description="Only MRs opened by this user.")] = None,
    reviewer_username: Annotated[str | None, Field(description="Only MRs this user is a reviewer of.")] = None,
    source_branch: Annotated[str | None, Field(description="Only MRs from this branch.")] = None,
    target_branch: Annotated[str | None, Field(description="Only MRs into this branch.")] = None,
    draft: Annotated[bool | None, Field(description="true: only drafts; false: no drafts.")] = None,
    order_by: Annotated[
        Literal["updated_at", "created_at", "merged_at", "title"], Field(description="Sort key.")
    ] = "updated_at",
    sort: Annotated[Literal["desc", "asc"], Field(description="Sort direction.")] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's merge requests (open ones by default), most recently updated first, filtered by
    labels, text, author, reviewer, branches or draft status. Returns iid, title, people, branches and
    merge status of each, plus pagination."""
    params = {"state": state, "labels": ",".join(labels) if labels else None, "search": search}
    params |= {"author_username": author_username, "reviewer_username": reviewer_username}
    params |= {"source_branch": source_branch, "target_branch": target_branch, "order_by": order_by, "sort": sort}
    # The project list filters drafts with wip=yes|no (doc/api/merge_requests.md#list-project-merge-requests).
    params["wip"] = None if draft is None else "yes" if draft else "no"
    path = f"/projects/{path_id(project)}/merge_requests"
    items, meta = await gitlab().page(path, what=f"Project {project}", page=page, per_page=per_page, params=params)
    return listing(items, meta, LIST_FIELDS)


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid",))
async def get_merge_request(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Get one merge request by iid (!12): title, description, state, branches, author, assignees, reviewers,
    mergeability (detailed_merge_status, has_conflicts), head SHA and its latest pipeline."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}"
    data = await gitlab().get(path, what=f"Merge request !{iid} in {project}")
    result = pick(data, DETAIL_FIELDS)
    result["milestone"] = (data.get("milestone") or {}).get("title")
    result["reference"] = (data.get("references") or {}).get("full")
    # head_pipeline carries more than the older `pipeline`; either may be null (doc/api/merge_requests.md).
    pipeline = data.get("head_pipeline") or data.get("pipeline")
    result["pipeline"] = pick(pipeline, PIPELINE_FIELDS) if pipeline else None
    return result


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/diffs",))
async def get_merge_request_changes(
    project: ProjectRef,
    iid: Iid,
    paths: PathPatterns = None,
    exclude_paths: PathPatterns = None,
    start_line: Annotated[int, Field(description="Start each diff at this line, to read on in a cut diff.", ge=1)] = 1,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """The diffs of a merge request, one page of changed files at a time: paths, new/renamed/deleted flags and
    diff text. Diff text is capped (10,000 characters per file, 50,000 per call); when `truncated` is true the
    `hint` says how to get the rest. paths/exclude_paths filter the files of the requested page."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}/diffs"
    what = f"Merge request !{iid} in {project}"
    items, meta = await gitlab().page(path, what=what, page=page, per_page=per_page)
    return {"iid": iid, **diff_page(items, meta, paths, exclude_paths, start_line)}


def diff_page(
    items: list[dict[str, Any]],
    meta: dict[str, int | None],
    paths: list[str] | None,
    exclude_paths: list[str] | None,
    start_line: int,
) -> dict[str, Any]:
    """One page of GitLab Diff entities, filtered by path and capped, with a hint for reading on."""
    chosen = [f for f in items if _chosen(f, paths, exclude_paths)]
    files, cut, left_out = _capped(chosen, start_line)
    result: dict[str, Any] = {"files": files, **meta, "truncated": bool(cut or left_out)}
    hint = _changes_hint(cut, left_out, meta, filtered=len(chosen) < len(items))
    if hint:
        result["hint"] = hint
    return result


def _chosen(file: dict[str, Any], paths: list[str] | None, exclude: list[str] | None) -> bool:
    names = {file.get("new_path") or "", file.get("old_path") or ""}
    wanted = not paths or any(_matches(name, p) for name in names for p in paths)
    return wanted and not any(_matches(name, p) for name in names for p in exclude or ())


def _matches(name: str, pattern: str) -> bool:
    folder = pattern.rstrip("/")
    return name == folder or name.startswith(folder + "/") or fnmatch(name, pattern)


def _capped(
    files: list[dict[str, Any]], start_line: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The files with their diffs cut to the per-file and total caps; which were cut, which left out."""
    budget, out, cut, left_out = MAX_TOTAL_CHARS, [], [], []
    for file in files:
        entry = pick(file, FILE_FIELDS) | {mark: True for mark in FILE_MARKS if file.get(mark)}
        diff = file.get("diff") or ""
        if diff and budget < MIN_USEFUL_CHARS:
            entry["diff"] = None
            left_out.append(entry["new_path"])
        elif diff:
            entry |= _clip(diff, start_line, min(MAX_FILE_CHARS, budget))
            budget -= len(entry["diff"])
            if entry.get("truncated"):
                cut.append(entry)
        else:
            entry["diff"] = ""  # GitLab sends none for binary, too_large or collapsed files
        out.append(entry)
    return out, cut, left_out


def _clip(diff: str, start_line: int, limit: int) -> dict[str, Any]:
    """The diff's lines from start_line that fit in `limit` characters, and where they sit in the whole."""
    window = line_window(diff, start=start_line, count=len(diff), tail=False, max_chars=limit)
    clip: dict[str, Any] = {"diff": window["content"]}
    if window["truncated"]:
        more = window["last_line"] < window["total_lines"] or "cut at" in window.get("hint", "")
        clip |= {k: window[k] for k in ("first_line", "last_line", "total_lines")} | {"truncated": more}
    return clip


def _changes_hint(
    cut: list[dict[str, Any]], left_out: list[str], meta: dict[str, int | None], *, filtered: bool
) -> str | None:
    parts = []
    if cut:
        spans = ", ".join(
            f"{f['new_path']} (lines {f['first_line']}-{f['last_line']} of {f['total_lines']})" for f in cut[:5]
        )
        parts.append(
            f"Diffs cut to fit the caps: {spans}. Read on with paths=['<file>'] and start_line=<last line + 1>."
        )
    if left_out:
        names = ", ".join(left_out[:10]) + (f" and {len(left_out) - 10} more" if len(left_out) > 10 else "")
        parts.append(
            f"The {MAX_TOTAL_CHARS:,}-character cap left out the diffs of {names}: get them with the same page and "
            "per_page and paths naming them, or leave big files out with exclude_paths."
        )
    if meta.get("next_page"):
        more = "Other files may match on later pages" if filtered else "More changed files"
        parts.append(f"{more}: page={meta['next_page']}.")
    return " ".join(parts) or None


# --- across projects -------------------------------------------------------------------------------
ACROSS_FIELDS = (*LIST_FIELDS, "references")
State = Annotated[Literal["opened", "closed", "merged", "locked", "all"], Field(description="MR state.")]
Labels = Annotated[list[str] | None, Field(description="Only MRs with all these labels.")]
Search = Annotated[str | None, Field(description="Text to find in title or description.")]


def _across(items: list[dict[str, Any]], meta: dict[str, int | None]) -> dict[str, Any]:
    """MRs from several projects: each names its project through `reference` (group/project!iid)."""
    result = listing(items, meta, ACROSS_FIELDS)
    for mr in result["items"]:
        mr["reference"] = (mr.pop("references", None) or {}).get("full")
    return result


@tool(READ, "merge_requests", routes=("GET /groups/:id/merge_requests",))
async def list_group_merge_requests(
    group: Annotated[str, Field(description="Group id or full path (e.g. 'my-group/sub').", min_length=1)],
    state: State = "opened",
    labels: Labels = None,
    search: Search = None,
    author_username: Annotated[str | None, Field(description="Only MRs opened by this user.")] = None,
    reviewer_username: Annotated[str | None, Field(description="Only MRs this user is a reviewer of.")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the merge requests of every project in a group and its subgroups (open ones by default), most
    recently updated first. Each item's `reference` (group/project!iid) names its project."""
    params = {"state": state, "labels": ",".join(labels) if labels else None, "search": search}
    params |= {"author_username": author_username, "reviewer_username": reviewer_username}
    params |= {"order_by": "updated_at", "sort": "desc"}
    items, meta = await gitlab().page(
        f"/groups/{path_id(group)}/merge_requests", what=f"Group {group}", page=page, per_page=per_page, params=params
    )
    return _across(items, meta)


@tool(READ, "merge_requests", routes=("GET /merge_requests",))
async def list_my_merge_requests(
    scope: Annotated[
        Literal["assigned_to_me", "reviews_for_me", "created_by_me"],
        Field(description="reviews_for_me: where your review is requested."),
    ] = "assigned_to_me",
    state: State = "opened",
    search: Search = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Your merge requests across all of GitLab: assigned to you, awaiting your review, or opened by you.
    Most recently updated first; each item's `reference` (group/project!iid) names its project."""
    params = {"scope": scope, "state": state, "search": search, "order_by": "updated_at", "sort": "desc"}
    items, meta = await gitlab().page(
        "/merge_requests", what="Merge requests", page=page, per_page=per_page, params=params
    )
    return _across(items, meta)


# --- writing ---------------------------------------------------------------------------------------
DRAFT_PREFIX = re.compile(r"^\s*(\[draft\]|\(draft\)|draft:)\s*", re.IGNORECASE)  # MergeRequest::DRAFT_REGEX
WRITE_FIELDS = (*DETAIL_FIELDS, "force_remove_source_branch", "squash")
UserIds = Annotated[list[int] | None, Field(description="GitLab user ids (not usernames); [] clears them.")]
Draft = Annotated[bool | None, Field(description="true: mark as draft (not mergeable); false: ready.")]


def _drafted(title: str, draft: bool | None) -> str:
    # A draft is an MR whose title starts with "Draft:" (doc/api/merge_requests.md: no draft parameter).
    bare = DRAFT_PREFIX.sub("", title)
    return title if draft is None else f"Draft: {bare}" if draft else bare


def _written(data: dict[str, Any]) -> dict[str, Any]:
    result = pick(data, WRITE_FIELDS)
    result["reference"] = (data.get("references") or {}).get("full")
    return result


@tool(WRITE, "merge_requests", routes=("POST /projects/:id/merge_requests",))
async def create_merge_request(
    project: ProjectRef,
    source_branch: Annotated[str, Field(description="Branch with the changes.", min_length=1)],
    target_branch: Annotated[str, Field(description="Branch to merge into, e.g. the default branch.", min_length=1)],
    title: Annotated[str, Field(description="MR title.", min_length=1, max_length=255)],
    description: Annotated[
        str | None, Field(description="Body, in GitLab Markdown ('Closes #12' links issues).")
    ] = None,
    labels: Annotated[list[str] | None, Field(description="Label names.")] = None,
    assignee_ids: UserIds = None,
    reviewer_ids: UserIds = None,
    draft: Annotated[bool, Field(description="Open as a draft (not mergeable until marked ready).")] = False,
    remove_source_branch: Annotated[bool | None, Field(description="Delete the source branch when merged.")] = None,
    squash: Annotated[bool | None, Field(description="Squash the commits into one when merged.")] = None,
) -> dict[str, Any]:
    """Open a merge request from a branch (push the branch first). Returns the new MR with its iid, URL and
    merge status; fails if an open MR already exists for the same branches."""
    body: dict[str, Any] = {"source_branch": source_branch, "target_branch": target_branch}
    body |= {"title": _drafted(title, draft or None), "description": description}
    body |= {"labels": ",".join(labels) if labels else None, "assignee_ids": assignee_ids, "reviewer_ids": reviewer_ids}
    body |= {"remove_source_branch": remove_source_branch, "squash": squash}
    data = await gitlab().post(f"/projects/{path_id(project)}/merge_requests", what=f"Project {project}", json=body)
    return _written(data)


@tool(
    WRITE,
    "merge_requests",
    routes=(
        "GET /projects/:id/merge_requests/:merge_request_iid",
        "PUT /projects/:id/merge_requests/:merge_request_iid",
    ),
)
async def update_merge_request(
    project: ProjectRef,
    iid: Iid,
    title: Annotated[str | None, Field(description="New title.", min_length=1, max_length=255)] = None,
    description: Annotated[str | None, Field(description="New body (replaces it), in GitLab Markdown.")] = None,
    labels: Annotated[list[str] | None, Field(description="Replace all labels; [] removes them all.")] = None,
    add_labels: Annotated[list[str] | None, Field(description="Labels to add.")] = None,
    remove_labels: Annotated[list[str] | None, Field(description="Labels to remove.")] = None,
    assignee_ids: UserIds = None,
    reviewer_ids: UserIds = None,
    target_branch: Annotated[str | None, Field(description="New target branch.", min_length=1)] = None,
    state_event: Literal["close", "reopen"] | None = None,
    draft: Draft = None,
) -> dict[str, Any]:
    """Change a merge request: title, description, labels, assignees, reviewers, target branch, draft
    status, or close/reopen it. Only the arguments you pass change. Returns the updated MR."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}"
    what = f"Merge request !{iid} in {project}"
    if draft is not None and title is None:
        title = (await gitlab().get(path, what=what))["title"]
    joined = {name: None if v is None else ",".join(v) for name, v in (("labels", labels), ("add_labels", add_labels))}
    body: dict[str, Any] = {"title": _drafted(title, draft) if title else None, "description": description}
    body |= joined | {"remove_labels": ",".join(remove_labels) if remove_labels else None}
    body |= {"assignee_ids": assignee_ids, "reviewer_ids": reviewer_ids, "target_branch": target_branch}
    body["state_event"] = state_event
    return _written(await gitlab().put(path, what=what, json=body))


# --- approvals (doc/api/merge_request_approvals.md) -------------------------------------------------
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


# --- what belongs to a merge request ---------------------------------------------------------------
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
