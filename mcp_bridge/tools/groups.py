"""Groups: find them, their subgroups and projects (doc/api/groups.md). Members are in members.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.errors import GitLabRejected
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, tool
from mcp_bridge.shaping import listed, listing, pick
from mcp_bridge.tools.projects import LIST_FIELDS as PROJECT_FIELDS

GROUP_FIELDS = ("id", "name", "full_path", "description", "visibility", "parent_id", "web_url")
DETAIL_FIELDS = (*GROUP_FIELDS, "full_name", "created_at", "project_creation_level", "subgroup_creation_level")

GroupRef = Annotated[str, Field(description="Group id or full path (e.g. 'my-group/sub-group').", min_length=1)]
Search = Annotated[str | None, Field(description="Text in the name or path.")]


@tool(READ, "groups", routes=("GET /groups",))
async def list_groups(
    search: Search = None,
    owned: Annotated[bool, Field(description="Only groups you own.")] = False,
    min_access_level: Annotated[
        Literal[10, 20, 30, 40, 50] | None, Field(description="Only groups where your role is at least this.")
    ] = None,
    top_level_only: Annotated[bool, Field(description="Leave out subgroups.")] = False,
    all_available: Annotated[bool, Field(description="Also public groups you are not a member of.")] = False,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the groups you belong to (or all you can see), by name. Returns id, full path and visibility."""
    params = {"search": search, "owned": owned or None, "min_access_level": min_access_level}
    params |= {"top_level_only": top_level_only or None, "all_available": all_available or None}
    items, meta = await _page("/groups", "Groups", page, per_page, params)
    return listing(items, meta, GROUP_FIELDS)


async def _page(
    path: str, what: str, page: int, per_page: int, params: dict[str, Any]
) -> tuple[list[Any], dict[str, int | None]]:
    """One offset page. Past GitLab's offset limit (50,000 rows, doc/api/rest/_index.md#offset-based-pagination)
    GitLab answers 405; these lists offer keyset pagination only to anonymous callers, so narrow them."""
    try:
        return await gitlab().page(path, what=what, page=page, per_page=per_page, params=params)
    except GitLabRejected as exc:
        if exc.status == 405 and "offset" in str(exc).lower():
            raise GitLabRejected(f"{exc} Narrow the list instead (search, or fewer subgroups).", 405) from None
        raise


@tool(READ, "groups", routes=("GET /groups/:id",))
async def get_group(group: GroupRef) -> dict[str, Any]:
    """Get one group by id or full path: description, visibility, parent and who may create projects in it."""
    data = await gitlab().get(f"/groups/{path_id(group)}", what=f"Group {group}", params={"with_projects": False})
    return pick(data, DETAIL_FIELDS)


@tool(READ, "groups", routes=("GET /groups/:id/subgroups",))
async def list_subgroups(
    group: GroupRef, search: Search = None, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List the direct subgroups of a group that you can see."""
    return await listed(
        f"/groups/{path_id(group)}/subgroups", f"Group {group}", page, per_page, GROUP_FIELDS, {"search": search}
    )


@tool(READ, "groups", routes=("GET /groups/:id/projects",))
async def list_group_projects(
    group: GroupRef,
    search: Search = None,
    include_subgroups: Annotated[bool, Field(description="Also projects of its subgroups.")] = False,
    archived: Annotated[bool | None, Field(description="true: only archived; false: only active.")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the projects of a group that you can see, most recently active first."""
    params = {"search": search, "include_subgroups": include_subgroups or None, "archived": archived}
    params["order_by"] = "last_activity_at"
    items, meta = await _page(f"/groups/{path_id(group)}/projects", f"Group {group}", page, per_page, params)
    return listing(items, meta, PROJECT_FIELDS)
