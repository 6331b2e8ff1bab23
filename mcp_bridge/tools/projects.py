"""Projects: find them and read one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import path_id
from mcp_bridge.toolkit import READ, Page, PerPage, ProjectRef, gitlab, listing, pick, tool

LIST_FIELDS = (
    "id",
    "path_with_namespace",
    "description",
    "visibility",
    "default_branch",
    "web_url",
    "archived",
    "star_count",
    "last_activity_at",
)
DETAIL_FIELDS = (
    *LIST_FIELDS,
    "name",
    "namespace",
    "topics",
    "http_url_to_repo",
    "open_issues_count",
    "forks_count",
    "created_at",
    "empty_repo",
    "permissions",
)


@tool(READ, "projects")
async def list_projects(
    search: Annotated[str | None, Field(description="Text to match in project name or path.")] = None,
    membership: Annotated[bool, Field(description="Only projects you are a member of.")] = True,
    owned: Annotated[bool, Field(description="Only projects you own.")] = False,
    starred: Annotated[bool, Field(description="Only projects you starred.")] = False,
    order_by: Annotated[
        Literal["last_activity_at", "name", "path", "created_at", "id"], Field(description="Sort key, descending.")
    ] = "last_activity_at",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List or search GitLab projects, most recently active first. Returns path, description,
    default branch and URL for each, plus pagination; set membership=false to search all visible projects."""
    params = {"search": search, "membership": membership, "owned": owned, "starred": starred}
    params |= {"order_by": order_by, "simple": True}
    items, meta = await gitlab().page("/projects", what="Projects", page=page, per_page=per_page, params=params)
    return listing(items, meta, LIST_FIELDS)


@tool(READ, "projects")
async def get_project(project: ProjectRef) -> dict[str, Any]:
    """Get one project by id or full path: description, default branch, visibility, clone URL,
    open issue count and your permissions in it."""
    data = await gitlab().get(f"/projects/{path_id(project)}", what=f"Project {project}")
    result = pick(data, DETAIL_FIELDS)
    if isinstance(result.get("namespace"), dict):
        result["namespace"] = result["namespace"].get("full_path")
    return result
