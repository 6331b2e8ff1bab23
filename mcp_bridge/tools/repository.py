"""Repository: browse the tree, read files, list branches and commits."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import path_id
from mcp_bridge.toolkit import READ, Page, PerPage, ProjectRef, gitlab, line_window, listing, pick, tool

TREE_FIELDS = ("name", "type", "path", "mode")
FILE_FIELDS = ("file_path", "ref", "size", "blob_id", "commit_id", "last_commit_id")
BRANCH_FIELDS = ("name", "default", "protected", "merged", "developers_can_push", "web_url", "commit")
BRANCH_COMMIT_FIELDS = ("short_id", "title", "committed_date")
COMMIT_FIELDS = ("id", "short_id", "title", "author_name", "author_email", "authored_date", "web_url")
MAX_FILE_CHARS = 40_000  # per window of a file, about 10k tokens
BINARY_SNIFF = 8000  # bytes git looks at for a NUL to call a file binary (xdiff buffer_is_binary)

RefOrDefault = Annotated[str | None, Field(description="Branch, tag or commit SHA; the default branch if omitted.")]


@tool(READ, "repository")
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
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/repository/tree",
        what=where,
        page=page,
        per_page=per_page,
        params={"path": path, "ref": ref, "recursive": recursive},
    )
    return listing(items, meta, TREE_FIELDS)


@tool(READ, "repository")
async def get_file(
    project: ProjectRef,
    file_path: Annotated[str, Field(description="Path of the file, e.g. 'src/app.py'.", min_length=1)],
    ref: RefOrDefault = None,
    start_line: Annotated[int | None, Field(description="First line to show, from 1.", ge=1)] = None,
    line_count: Annotated[int, Field(description="How many lines to show (1-2000).", ge=1, le=2000)] = 400,
) -> dict[str, Any]:
    """Read a file from a project's repository. Text comes as a window of lines with total_lines and
    a hint; pass start_line to read on. Binary files give metadata only (binary=true)."""
    data = await gitlab().get(
        f"/projects/{path_id(project)}/repository/files/{path_id(file_path)}",
        what=f"File {file_path} at {ref or 'the default branch'} in {project}",
        # The files API requires a ref; HEAD means the default branch (doc/api/repository_files.md).
        params={"ref": ref or "HEAD"},
    )
    text = _decode(base64.b64decode(data.get("content") or ""))
    if text is None:
        return {**pick(data, FILE_FIELDS), "binary": True, "hint": "Binary file: content not shown."}
    window = line_window(text, start=start_line, count=line_count, tail=False, max_chars=MAX_FILE_CHARS)
    return {**pick(data, FILE_FIELDS), "binary": False, **window}


@tool(READ, "repository")
async def list_branches(
    project: ProjectRef,
    search: Annotated[
        str | None, Field(description="Text in the branch name; '^text' for names starting with it, 'text$' ending.")
    ] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's branches by name: which is the default, which are protected or already merged,
    and the latest commit on each."""
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/repository/branches",
        what=f"Branches of {project}",
        page=page,
        per_page=per_page,
        params={"search": search},
    )
    result = listing(items, meta, BRANCH_FIELDS)
    for branch in result["items"]:
        branch["commit"] = pick(branch.get("commit") or {}, BRANCH_COMMIT_FIELDS)
    return result


@tool(READ, "repository")
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
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/repository/commits",
        what=f"Commits of {project}",
        page=page,
        per_page=per_page,
        params=params,
    )
    return listing(items, meta, COMMIT_FIELDS)


def _decode(raw: bytes) -> str | None:
    """The file's text, or None when it is binary: a NUL byte near the start (as git decides) or not UTF-8."""
    if b"\0" in raw[:BINARY_SNIFF]:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
