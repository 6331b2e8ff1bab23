"""A merge request's diffs, one page of changed files at a time, filtered by path and capped; the
paging and capping is shared with commits and diff versions (doc/api/merge_requests.md#list-merge-request-diffs)."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, tool
from mcp_bridge.shaping import line_window, pick

FILE_FIELDS = ("old_path", "new_path", "new_file", "renamed_file", "deleted_file")
FILE_MARKS = ("generated_file", "too_large", "collapsed")  # shown only when true
MAX_FILE_CHARS = 10_000  # of one file's diff text
MAX_TOTAL_CHARS = 50_000  # of all diff text in one call
MIN_USEFUL_CHARS = 1_000  # below this, a file's diff is left out rather than cut to a stub

PathPatterns = Annotated[
    list[str] | None,
    Field(description="Paths, folders ('src/') or globs ('*.py'); a file matches on its new or old path."),
]
DiffStart = Annotated[int, Field(description="Start each diff at this line, to read on in a cut diff.", ge=1)]


async def diffs(
    path: str,
    what: str,
    paths: PathPatterns = None,
    exclude_paths: PathPatterns = None,
    start_line: DiffStart = 1,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """A page of the diffs at `path` (a merge request's, a commit's), filtered and capped by diff_page.
    Its parameters after `what` are those of the tools that read diffs."""
    items, meta = await gitlab().page(path, what=what, page=page, per_page=per_page)
    return diff_page(items, meta, paths, exclude_paths, start_line)


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/diffs",))
@shared_parameters(diffs, after="what")
async def get_merge_request_changes(project: ProjectRef, iid: Iid, **reading: Any) -> dict[str, Any]:
    """The diffs of a merge request, one page of changed files at a time: paths, new/renamed/deleted flags and
    diff text. Diff text is capped (10,000 characters per file, 50,000 per call); when `truncated` is true the
    `hint` says how to get the rest. paths/exclude_paths filter the files of the requested page."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}/diffs"
    return {"iid": iid, **await diffs(path, f"Merge request !{iid} in {project}", **reading)}


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
