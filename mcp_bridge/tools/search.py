"""Search across GitLab, in a group or in a project (doc/api/search.md), with GitLab's basic search.

GitLab Free offers code, commit, comment and wiki search (blobs, commits, notes, wiki_blobs) only inside
one project; across a group or the whole instance they need advanced search (Premium), so the global and
group tools do not offer those scopes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, tool
from mcp_bridge.shaping import pick

MAX_BLOB_CHARS = 600  # per code/wiki hit: the matching lines with a little context

Term = Annotated[str, Field(description="Text to search for.", min_length=1)]
State = Annotated[
    Literal["opened", "closed", "merged", "all"] | None, Field(description="Issues and merge requests only.")
]
FIELDS: dict[str, tuple[str, ...]] = {
    "projects": ("id", "path_with_namespace", "description", "default_branch", "web_url", "last_activity_at"),
    "issues": ("iid", "project_id", "title", "state", "labels", "author", "assignees", "confidential", "web_url"),
    "merge_requests": (
        "iid",
        "project_id",
        "title",
        "state",
        "draft",
        "source_branch",
        "target_branch",
        "author",
        "web_url",
    ),
    "milestones": ("id", "iid", "project_id", "group_id", "title", "state", "due_date", "web_url"),
    "snippet_titles": ("id", "title", "file_name", "author", "project_id", "web_url"),
    "users": ("id", "username", "name", "state", "web_url"),
    "notes": ("id", "body", "author", "noteable_type", "noteable_iid", "project_id", "created_at"),
    "commits": ("id", "short_id", "title", "author_name", "committed_date", "project_id", "web_url"),
    "blobs": ("path", "ref", "startline", "data", "project_id"),
    "wiki_blobs": ("path", "ref", "startline", "data", "project_id"),
}


def _results(scope: str, items: list[Any], meta: dict[str, int | None]) -> dict[str, Any]:
    """Hits trimmed per scope; code and wiki snippets capped at MAX_BLOB_CHARS."""
    hits = [pick(item, FIELDS[scope]) for item in items]
    for hit, item in zip(hits, items, strict=True):
        full = (item.get("references") or {}).get("full") if isinstance(item, dict) else None
        if full:  # "group/project#12": which project, without a second call (issues and merge requests)
            hit["reference"] = full
        data = hit.get("data")
        if isinstance(data, str) and len(data) > MAX_BLOB_CHARS:
            hit["data"] = data[:MAX_BLOB_CHARS] + "…"
            hit["truncated"] = True
    return {"scope": scope, "items": hits, **meta}


async def _search(path: str, what: str, scope: str, params: dict[str, Any], page: int, per_page: int) -> dict[str, Any]:
    items, meta = await gitlab().page(path, what=what, page=page, per_page=per_page, params={"scope": scope, **params})
    return _results(scope, items, meta)


@tool(READ, "search", routes=("GET /search",))
async def search_gitlab(
    scope: Literal["projects", "issues", "merge_requests", "milestones", "snippet_titles", "users"],
    search: Term,
    state: State = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Search everything you can see in GitLab for projects, issues, merge requests, milestones, snippets
    or users, newest first. For code, commits or comments use search_project."""
    return await _search("/search", "Search", scope, {"search": search, "state": state}, page, per_page)


@tool(READ, "search", routes=("GET /groups/:id/search",))
async def search_group(
    group: Annotated[str, Field(description="Group id or full path, e.g. 'my-group/sub'.", min_length=1)],
    scope: Literal["projects", "issues", "merge_requests", "milestones", "users"],
    search: Term,
    state: State = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Search a group and its subgroups for projects, issues, merge requests, milestones or members."""
    params = {"search": search, "state": state}
    return await _search(f"/groups/{path_id(group)}/search", f"Group {group}", scope, params, page, per_page)


@tool(READ, "search", routes=("GET /projects/:id/search",))
async def search_project(
    project: ProjectRef,
    scope: Literal["blobs", "commits", "issues", "merge_requests", "notes", "milestones", "wiki_blobs", "users"],
    search: Annotated[
        str,
        Field(description="Text to search for; for blobs also filename:*.py, path:src, extension:md.", min_length=1),
    ],
    ref: Annotated[str | None, Field(description="Branch or tag for blobs/commits; default branch if omitted.")] = None,
    state: State = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Search one project: code (blobs: path, line and matching lines), commits, issues, merge requests,
    comments (notes), milestones, wiki pages or members."""
    params = {"search": search, "ref": ref, "state": state}
    return await _search(f"/projects/{path_id(project)}/search", f"Project {project}", scope, params, page, per_page)
