"""Merge requests: find them, read one, and read its diffs in capped pages."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import path_id
from mcp_bridge.toolkit import READ, Iid, Page, PerPage, ProjectRef, gitlab, line_window, listing, pick, tool

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


@tool(READ, "merge_requests")
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


@tool(READ, "merge_requests")
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


@tool(READ, "merge_requests")
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
    chosen = [f for f in items if _chosen(f, paths, exclude_paths)]
    files, cut, left_out = _capped(chosen, start_line)
    result: dict[str, Any] = {"iid": iid, "files": files, **meta, "truncated": bool(cut or left_out)}
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
