"""Repository: browse the tree, read and blame files, list commits, compare refs (writing files is in
repository_files.py).

get_file reads `.../files/:path/raw`: bytes as they are (no base64, a third less to download and no
huge JSON string to parse) with the metadata in X-Gitlab-* headers; binary files are recognised on
the bytes (a NUL near the start, or not UTF-8) and shown as metadata only. Every text window is
capped by lines and characters, so a big file is read in ranges with start_line.
"""

from __future__ import annotations

import re
from datetime import datetime
from fnmatch import fnmatch
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, tool
from mcp_bridge.shaping import line_window, listed, pick, text_window

TREE_FIELDS = ("name", "type", "path", "mode")
FILE_FIELDS = ("file_path", "ref", "size", "blob_id", "commit_id", "last_commit_id")
COMMIT_FIELDS = ("id", "short_id", "title", "author_name", "author_email", "authored_date", "web_url")
# A Git LFS pointer file (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
LFS_POINTER = re.compile(
    rb"\Aversion https://git-lfs\.github\.com/spec/v1\n(?:ext-[^\n]*\n)*oid sha256:([0-9a-f]{64})\nsize (\d+)\n?\Z"
)
MAX_FILE_CHARS = 40_000  # per window of a file, about 10k tokens
MAX_LINE_CHARS = 1_000  # of one blamed line (minified files have lines of 100 kB)
MAX_DIFF_CHARS = 10_000  # of one file's diff in compare_refs, as for merge request changes
MAX_DIFF_TOTAL = 50_000  # of all diff text in one compare_refs call
MIN_USEFUL_CHARS = 1_000  # below this, a diff is left out rather than cut to a stub
MAX_COMMITS = 100  # listed by compare_refs (GitLab itself stops near 10,000)
COMPARE_COMMIT_FIELDS = ("short_id", "title", "author_name", "created_at")
DIFF_FIELDS = ("old_path", "new_path", "new_file", "renamed_file", "deleted_file")
BINARY_SNIFF = 8000  # bytes git looks at for a NUL to call a file binary (xdiff buffer_is_binary)

RefOrDefault = Annotated[str | None, Field(description="Branch, tag or commit SHA; the default branch if omitted.")]
FilePath = Annotated[str, Field(description="Path of the file, e.g. 'src/app.py'.", min_length=1)]


@tool(READ, "repository", routes=("GET /projects/:id/repository/tree",))
async def get_repository_tree(
    project: ProjectRef,
    path: Annotated[str | None, Field(description="Directory to list, e.g. 'src/utils'; the root if omitted.")] = None,
    ref: RefOrDefault = None,
    recursive: Annotated[bool, Field(description="Also list everything in subdirectories.")] = False,
    page: Page = 1,
    per_page: PerPage = 50,
) -> dict[str, Any]:
    """List the files (type 'blob') and directories (type 'tree') of a project's repository, one page
    at a time. Read a file with get_file."""
    where = f"Tree {path or '/'} at {ref or 'the default branch'} in {project}"
    return await listed(
        f"/projects/{path_id(project)}/repository/tree",
        where,
        page,
        per_page,
        TREE_FIELDS,
        {"path": path, "ref": ref, "recursive": recursive},
    )


@tool(READ, "repository", routes=("GET /projects/:id/repository/files/:file_path/raw",))
@shared_parameters(text_window, after="max_chars")
async def get_file(
    project: ProjectRef,
    file_path: FilePath,
    ref: RefOrDefault = None,
    **reading: Any,
) -> dict[str, Any]:
    """Read a file from a project's repository. Text comes as a window of lines with total_lines and
    a hint; pass start_line to read on. Binary files give metadata only (binary=true). Git LFS files
    are read from LFS (lfs=true); one whose content GitLab lacks is reported as a pointer."""
    # The raw endpoint sends the bytes as they are (no base64, a third smaller) and the metadata as
    # X-Gitlab-* headers (doc/api/repository_files.md#get-raw-file-from-repository, lib/api/files.rb).
    # lfs=true sends an LFS-tracked file's content instead of its pointer; other files are unaffected.
    response = await gitlab().raw(
        f"/projects/{path_id(project)}/repository/files/{path_id(file_path)}/raw",
        what=f"File {file_path} at {ref or 'the default branch'} in {project}",
        # HEAD means the default branch (doc/api/repository_files.md).
        params={"ref": ref or "HEAD", "lfs": True},
    )
    raw = response.content
    meta: dict[str, Any] = {"file_path": file_path, "ref": ref or "HEAD", "size": len(raw)}
    for field in FILE_FIELDS:
        value = response.headers.get("x-gitlab-" + field.replace("_", "-"))
        if value and field != "size":  # X-Gitlab-Size is the blob's: an LFS pointer's, not the content's
            meta[field] = value
    if response.is_redirect:
        # LFS content in object storage with direct download: GitLab sends a redirect, not the bytes.
        hint = "Git LFS file kept in object storage: GitLab sent a download link, not the content."
        return {**meta, "lfs": True, "binary": None, "hint": hint}
    pointer = LFS_POINTER.match(raw) if len(raw) < 1024 else None  # pointers are small
    if pointer:
        # lfs=true still gave the pointer: the LFS object was never uploaded, or GitLab predates lfs=true.
        lfs = {"oid": pointer.group(1).decode(), "size": int(pointer.group(2))}
        hint = (
            "Git LFS pointer: GitLab does not have this file's content (not uploaded, or LFS is off), so only "
            "its id and size are shown."
        )
        return {**meta, "lfs": lfs, "binary": None, "hint": hint}
    text = decode_text(raw)
    if text is None:
        return {**meta, "binary": True, "hint": "Binary file: content not shown."}
    window = text_window(text, MAX_FILE_CHARS, **reading)
    return {**meta, "binary": False, **window}


@tool(READ, "repository", routes=("GET /projects/:id/repository/files/:file_path/blame",))
async def get_file_blame(
    project: ProjectRef,
    file_path: FilePath,
    ref: RefOrDefault = None,
    start_line: Annotated[int, Field(description="First line to blame, from 1.", ge=1)] = 1,
    line_count: Annotated[int, Field(description="How many lines (1-1000).", ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Who last changed each line of a file, and in which commit: line ranges with their commit
    (short id), plus each commit's title, author and date."""
    end = start_line + line_count - 1
    groups = await gitlab().get(
        f"/projects/{path_id(project)}/repository/files/{path_id(file_path)}/blame",
        what=f"File {file_path} at {ref or 'the default branch'} in {project}",
        params={"ref": ref or "HEAD", "range[start]": start_line, "range[end]": end},
    )
    commits: dict[str, dict[str, Any]] = {}
    ranges: list[dict[str, Any]] = []
    line, budget, cut = start_line, MAX_FILE_CHARS, False
    for group in groups:
        commit = group.get("commit") or {}
        short = str(commit.get("id", ""))[:8]
        title = str(commit.get("message") or "").split("\n", 1)[0]
        commits.setdefault(short, {"title": title, **pick(commit, ("author_name", "authored_date"))})
        lines = [text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + " [cut]" for text in group["lines"]]
        kept = _lines_within(lines, budget)
        if kept:
            ranges.append({"commit": short, "first_line": line, "lines": lines[:kept]})
        budget -= sum(len(text) + 1 for text in lines[:kept])
        line += kept
        if kept < len(lines):
            cut = True
            break
    result: dict[str, Any] = {"file_path": file_path, "first_line": start_line, "last_line": line - 1}
    result |= {"commits": commits, "ranges": ranges}
    if cut or line - 1 == end:
        result["hint"] = f"More lines may follow: pass start_line={line}."
    return result


def _lines_within(lines: list[str], budget: int) -> int:
    """How many of `lines` fit in `budget` characters."""
    for count, text in enumerate(lines):
        budget -= len(text) + 1
        if budget < 0:
            return count
    return len(lines)


@tool(READ, "repository", routes=("GET /projects/:id/repository/commits",))
async def list_commits(
    project: ProjectRef,
    ref_name: RefOrDefault = None,
    path: Annotated[str | None, Field(description="Only commits that touched this file or directory.")] = None,
    since: Annotated[datetime | None, Field(description="Only commits at or after this time (ISO 8601).")] = None,
    until: Annotated[datetime | None, Field(description="Only commits at or before this time (ISO 8601).")] = None,
    author: Annotated[str | None, Field(description="Author name or email, or part of it (case-sensitive).")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's commits, newest first: on one branch, touching one path, by one author or in
    a time range. GitLab gives no total for commits; follow next_page (the last page may be empty)."""
    params = {"ref_name": ref_name, "path": path, "author": author}
    params |= {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None}
    return await listed(
        f"/projects/{path_id(project)}/repository/commits",
        f"Commits of {project}",
        page,
        per_page,
        COMMIT_FIELDS,
        params,
    )


def decode_text(raw: bytes) -> str | None:
    """The file's text, or None when it is binary: a NUL byte near the start (as git decides) or not UTF-8."""
    if b"\0" in raw[:BINARY_SNIFF]:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


# --- comparing ----------------------------------------------------------------------------------
@tool(READ, "repository", routes=("GET /projects/:id/repository/compare",))
async def compare_refs(
    project: ProjectRef,
    from_ref: Annotated[str, Field(description="Base: branch, tag or commit SHA.", min_length=1)],
    to_ref: Annotated[str, Field(description="Head: branch, tag or commit SHA.", min_length=1)],
    straight: Annotated[bool, Field(description="Diff from..to directly, not from the merge base.")] = False,
    paths: Annotated[list[str] | None, Field(description="Only files under these paths or globs.")] = None,
    start_line: Annotated[int, Field(description="Start each diff at this line, to read on.", ge=1)] = 1,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Compare two refs: the commits in to_ref but not in from_ref (oldest first) and the changed files'
    diffs, one page of files at a time, capped like get_merge_request_changes."""
    data = await gitlab().get(
        f"/projects/{path_id(project)}/repository/compare",
        what=f"Comparison {from_ref}...{to_ref} in {project}",
        params={"from": from_ref, "to": to_ref, "straight": straight},
    )
    commits = data.get("commits") or []
    chosen = [d for d in data.get("diffs") or [] if not paths or any(_under(d, p) for p in paths)]
    files = chosen[(page - 1) * per_page : page * per_page]
    shown, cut = _diffs(files, start_line)
    result: dict[str, Any] = {"commits": [pick(c, COMPARE_COMMIT_FIELDS) for c in commits[-MAX_COMMITS:]]}
    result |= {"total_commits": len(commits), "files": shown, "total_files": len(chosen), "page": page}
    result["next_page"] = page + 1 if page * per_page < len(chosen) else None
    result["web_url"] = data.get("web_url")
    hints = [f"Only the newest {MAX_COMMITS} commits are listed."] if len(commits) > MAX_COMMITS else []
    if cut:
        hints.append(f"Diffs cut: {', '.join(cut[:5])}; pass paths=[<file>] and start_line to read on.")
    if result["next_page"]:
        hints.append(f"More files: page={result['next_page']}.")
    if hints:
        result["hint"] = " ".join(hints)
    return result


def _under(diff: dict[str, Any], pattern: str) -> bool:
    folder = pattern.rstrip("/")
    names = (diff.get("new_path") or "", diff.get("old_path") or "")
    return any(n == folder or n.startswith(folder + "/") or fnmatch(n, pattern) for n in names)


def _diffs(files: list[dict[str, Any]], start_line: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The files with diffs from start_line, cut to the per-file and total caps; which were cut."""
    budget, out, cut = MAX_DIFF_TOTAL, [], []
    for file in files:
        entry, diff = pick(file, DIFF_FIELDS), file.get("diff") or ""
        if diff and budget < MIN_USEFUL_CHARS:
            entry["diff"] = None  # left out rather than cut to a stub
            cut.append(f"{entry.get('new_path')} (left out)")
        else:
            window = line_window(
                diff, start=start_line, count=len(diff), tail=False, max_chars=min(MAX_DIFF_CHARS, budget)
            )
            entry["diff"] = window["content"]
            budget -= len(window["content"])
            if window["last_line"] < window["total_lines"] or "cut at" in window.get("hint", ""):
                entry |= {k: window[k] for k in ("first_line", "last_line", "total_lines")} | {"truncated": True}
                cut.append(f"{entry.get('new_path')} (lines {window['first_line']}-{window['last_line']})")
        out.append(entry)
    return out, cut


@tool(READ, "repository", routes=("GET /projects/:id/repository/contributors",))
async def list_repository_contributors(
    project: ProjectRef,
    order_by: Literal["commits", "name", "email"] = "commits",
    sort: Literal["desc", "asc"] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the people who committed to the default branch, with their commit counts (most first)."""
    return await listed(
        f"/projects/{path_id(project)}/repository/contributors",
        f"Contributors of {project}",
        page,
        per_page,
        ("name", "email", "commits"),
        {"order_by": order_by, "sort": sort},
    )
