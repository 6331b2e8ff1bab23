"""Members of projects and groups: who has access and with which role, and changing that
(doc/api/members.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick
from mcp_bridge.tools.groups import GroupRef

MEMBER_FIELDS = ("id", "username", "name", "state", "access_level", "expires_at", "created_at")

AccessLevel = Annotated[
    Literal[10, 20, 30, 40, 50], Field(description="10 guest, 20 reporter, 30 developer, 40 maintainer, 50 owner.")
]
ExpiresAt = Annotated[
    str | None, Field(description="Membership ends on this day, YYYY-MM-DD.", pattern=r"^\d{4}-\d{2}-\d{2}$")
]
UserId = Annotated[int, Field(description="The member's user id (list_project_members gives it).", ge=1)]
Query = Annotated[str | None, Field(description="Text in the member's name or username.")]


async def _members(path: str, what: str, query: str | None, page: int, per_page: int) -> dict[str, Any]:
    """A page of a project's or group's members (`path` is their API path, direct or /all)."""
    return await listed(path, what, page, per_page, MEMBER_FIELDS, {"query": query})


@tool(
    READ,
    "projects",
    routes=(
        "GET /projects/:id/members",
        "GET /projects/:id/members/all",
    ),
)
async def list_project_members(
    project: ProjectRef,
    query: Query = None,
    inherited: Annotated[bool, Field(description="Include members inherited from groups.")] = True,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List who has access to a project and their role (access_level 10 guest ... 50 owner), with pagination."""
    suffix = "/all" if inherited else ""
    return await _members(f"/projects/{path_id(project)}/members{suffix}", f"Project {project}", query, page, per_page)


@tool(WRITE, "projects", routes=("POST /projects/:id/members",))
async def add_project_member(
    project: ProjectRef,
    user: Annotated[str, Field(description="User id or username.", min_length=1)],
    access_level: AccessLevel,
    expires_at: ExpiresAt = None,
) -> dict[str, Any]:
    """Give a user a role in a project (needs Maintainer; only Owners add Owners). Returns the new member."""
    body: dict[str, Any] = {"access_level": access_level, "expires_at": expires_at}
    body["user_id" if user.isdigit() else "username"] = user if user.isdigit() else user.lstrip("@")
    data = await gitlab().post(f"/projects/{path_id(project)}/members", what=f"Project {project}", json=body)
    return pick(data, MEMBER_FIELDS)


@tool(WRITE, "projects", routes=("PUT /projects/:id/members/:user_id",))
async def update_project_member(
    project: ProjectRef, user_id: UserId, access_level: AccessLevel, expires_at: ExpiresAt = None
) -> dict[str, Any]:
    """Change a direct member's role or expiry date in a project (needs Maintainer). Returns the member."""
    data = await gitlab().put(
        f"/projects/{path_id(project)}/members/{user_id}",
        what=f"Member {user_id} of {project}",
        json={"access_level": access_level, "expires_at": expires_at},
    )
    return pick(data, MEMBER_FIELDS)


@tool(DESTRUCTIVE, "projects", routes=("DELETE /projects/:id/members/:user_id",))
async def remove_project_member(project: ProjectRef, user_id: UserId) -> dict[str, Any]:
    """Remove a direct member from a project (needs Maintainer, or yourself to leave)."""
    await gitlab().delete(f"/projects/{path_id(project)}/members/{user_id}", what=f"Member {user_id} of {project}")
    return {"project": project, "removed_user_id": user_id}


@tool(READ, "groups", routes=("GET /groups/:id/members/all",))
async def list_group_members(
    group: GroupRef,
    query: Query = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a group's members, including those inherited from parent groups, with their role
    (access_level 10 guest ... 50 owner)."""
    return await _members(f"/groups/{path_id(group)}/members/all", f"Group {group}", query, page, per_page)
