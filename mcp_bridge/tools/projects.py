"""Projects: find, read, create and manage them, and their forks (doc/api/projects.md,
doc/api/project_forks.md, doc/api/events.md). Members are in members.py."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field

from mcp_bridge.errors import GitLabRejected
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import NewDescription, Page, PerPage, ProjectRef, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, listing, pick
from mcp_bridge.tools.users import event_filters, events_page

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
    "forked_from_project",
)
SHORT_FIELDS = ("id", "path_with_namespace", "archived", "star_count", "web_url")

Visibility = Literal["private", "internal", "public"]


def project_detail(data: dict[str, Any]) -> dict[str, Any]:
    """A project trimmed for the model; namespace and fork source shrink to their paths."""
    result = pick(data, DETAIL_FIELDS)
    if isinstance(result.get("namespace"), dict):
        result["namespace"] = result["namespace"].get("full_path")
    if isinstance(result.get("forked_from_project"), dict):
        result["forked_from_project"] = result["forked_from_project"].get("path_with_namespace")
    return result


# `simple=true` leaves out archived, permissions and the rest (lib/api/entities/basic_project_details.rb).
SIMPLE_LIST_FIELDS = tuple(field for field in LIST_FIELDS if field != "archived")
# The keyset cursor a next-page link carries (doc/api/rest/_index.md#keyset-based-pagination).
CURSOR = re.compile(r"^(id_after|id_before)=(\d+)$")
KEYSET_HINT = "Offset pages stop at 50,000 projects: pass pagination='keyset', then next_cursor, to read on."


@tool(READ, "projects", routes=("GET /projects",))
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
    pagination: Annotated[
        Literal["offset", "keyset"], Field(description="keyset: by id, newest first, past 50,000 rows.")
    ] = "offset",
    cursor: Annotated[str | None, Field(description="next_cursor of the previous keyset page.")] = None,
) -> dict[str, Any]:
    """List or search GitLab projects, most recently active first. Returns path, description,
    default branch and URL for each, plus pagination; set membership=false to search all visible projects."""
    params: dict[str, Any] = {"search": search, "membership": membership, "owned": owned, "starred": starred}
    params |= {"order_by": order_by, "simple": True}
    if pagination == "keyset" or cursor is not None:
        return await _keyset_projects(params, per_page, cursor)
    try:
        items, meta = await gitlab().page("/projects", what="Projects", page=page, per_page=per_page, params=params)
    except GitLabRejected as exc:
        if exc.status == 405:  # past GitLab's offset limit (doc/api/rest/_index.md#offset-based-pagination)
            raise GitLabRejected(f"{exc} {KEYSET_HINT}", exc.status) from None
        raise
    return listing(items, meta, SIMPLE_LIST_FIELDS)


async def _keyset_projects(params: dict[str, Any], per_page: int, cursor: str | None) -> dict[str, Any]:
    """One keyset page: GitLab orders by id and links the next page; its id_after/id_before is the cursor."""
    params |= {"pagination": "keyset", "order_by": "id", "sort": "desc", "per_page": per_page}
    if cursor is not None:
        found = CURSOR.match(cursor.strip())
        if found is None:
            raise GitLabRejected(
                "cursor must be the next_cursor of a keyset page of list_projects (e.g. 'id_before=123'). "
                "Nothing was sent.",
                400,
            )
        params[found.group(1)] = int(found.group(2))
    response = await gitlab().raw("/projects", what="Projects", params=params)
    next_link = response.links.get("next", {}).get("url", "")
    query = parse_qs(urlsplit(next_link).query)
    after = next((f"{key}={query[key][0]}" for key in ("id_before", "id_after") if query.get(key)), None)
    result = listing(response.json(), {"per_page": per_page}, SIMPLE_LIST_FIELDS)
    result["next_cursor"] = after
    return result


@tool(READ, "projects", routes=("GET /projects/:id",))
async def get_project(project: ProjectRef) -> dict[str, Any]:
    """Get one project by id or full path: description, default branch, visibility, clone URL,
    open issue count and your permissions in it."""
    return project_detail(await gitlab().get(f"/projects/{path_id(project)}", what=f"Project {project}"))


@tool(WRITE, "projects", routes=("POST /projects",))
async def create_project(
    name: Annotated[str, Field(description="Project name; the URL path is derived from it.", min_length=1)],
    path: Annotated[str | None, Field(description="URL path (slug), if not derived from the name.")] = None,
    namespace_id: Annotated[int | None, Field(description="Group id to create it in; default: your namespace.")] = None,
    description: Annotated[str | None, Field(description="Short description.")] = None,
    visibility: Visibility = "private",
    initialize_with_readme: Annotated[bool, Field(description="Start with a README commit on main.")] = False,
) -> dict[str, Any]:
    """Create a project in your personal namespace or a group (get_group gives its id). Returns the new project."""
    body = {"name": name, "path": path, "namespace_id": namespace_id, "description": description}
    body |= {"visibility": visibility, "initialize_with_readme": initialize_with_readme or None}
    return project_detail(await gitlab().post("/projects", what=f"Project {name}", json=body))


@tool(WRITE, "projects", routes=("PUT /projects/:id",))
async def update_project(
    project: ProjectRef,
    name: Annotated[str | None, Field(description="New display name.")] = None,
    description: NewDescription = None,
    default_branch: Annotated[str | None, Field(description="An existing branch.")] = None,
    visibility: Visibility | None = None,
    topics: Annotated[list[str] | None, Field(description="Replaces all topics.")] = None,
) -> dict[str, Any]:
    """Change a project's settings (needs Maintainer): name, description, default branch, visibility, topics.
    Returns the updated project."""
    body: dict[str, Any] = {"name": name, "description": description, "default_branch": default_branch}
    body |= {"visibility": visibility, "topics": topics}
    data = await gitlab().put(f"/projects/{path_id(project)}", what=f"Project {project}", json=body)
    return project_detail(data)


@tool(WRITE, "projects", routes=("POST /projects/:id/fork",))
async def fork_project(
    project: ProjectRef,
    namespace: Annotated[str | None, Field(description="Group path or id to fork into; default: yours.")] = None,
    name: Annotated[str | None, Field(description="Name of the fork; default: the source's.")] = None,
    path: Annotated[str | None, Field(description="URL path of the fork; default: the source's.")] = None,
) -> dict[str, Any]:
    """Fork a project into your namespace or a group. Returns the new fork (forked_from_project names the source)."""
    body: dict[str, Any] = {"name": name, "path": path}
    if namespace:
        body["namespace_id" if namespace.isdigit() else "namespace_path"] = namespace
    data = await gitlab().post(f"/projects/{path_id(project)}/fork", what=f"Project {project}", json=body)
    return project_detail(data)


@tool(READ, "projects", routes=("GET /projects/:id/forks",))
async def list_project_forks(project: ProjectRef, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """List the forks of a project that you can see, with pagination."""
    return await listed(f"/projects/{path_id(project)}/forks", f"Project {project}", page, per_page, LIST_FIELDS)


@tool(WRITE, "projects", routes=("POST /projects/:id/archive",))
async def archive_project(project: ProjectRef) -> dict[str, Any]:
    """Archive a project (Owner only): it becomes read-only until unarchived."""
    data = await gitlab().post(f"/projects/{path_id(project)}/archive", what=f"Project {project}")
    return pick(data, SHORT_FIELDS)


@tool(WRITE, "projects", routes=("POST /projects/:id/unarchive",))
async def unarchive_project(project: ProjectRef) -> dict[str, Any]:
    """Unarchive a project (Owner only), making it writable again."""
    data = await gitlab().post(f"/projects/{path_id(project)}/unarchive", what=f"Project {project}")
    return pick(data, SHORT_FIELDS)


@tool(DESTRUCTIVE, "projects", routes=("DELETE /projects/:id",))
async def delete_project(project: ProjectRef) -> dict[str, Any]:
    """Delete a project with its repository, issues and merge requests (Owner only). Cannot be undone."""
    await gitlab().delete(f"/projects/{path_id(project)}", what=f"Project {project}")
    # GitLab answers 202: removal runs in the background, or after a delay where delayed deletion is on.
    return {"project": project, "deletion": "accepted"}


@tool(WRITE, "projects", routes=("POST /projects/:id/star",))
async def star_project(project: ProjectRef) -> dict[str, Any]:
    """Star a project (it then appears in list_projects with starred=true). Returns its star count."""
    return await _star(project, "star")


@tool(WRITE, "projects", routes=("POST /projects/:id/unstar",))
async def unstar_project(project: ProjectRef) -> dict[str, Any]:
    """Remove your star from a project. Returns its star count."""
    return await _star(project, "unstar")


async def _star(project: str, verb: str) -> dict[str, Any]:
    data = await gitlab().post(f"/projects/{path_id(project)}/{verb}", what=f"Project {project}")
    starred = verb == "star"
    if not data:  # 304 Not Modified: already (un)starred (doc/api/projects.md)
        return {"project": project, "starred": starred, "changed": False}
    return {**pick(data, ("id", "path_with_namespace", "star_count")), "starred": starred, "changed": True}


@tool(READ, "projects", routes=("GET /projects/:id/languages",))
async def get_project_languages(project: ProjectRef) -> dict[str, Any]:
    """The programming languages of a project's default branch, as percentages of its code."""
    data = await gitlab().get(f"/projects/{path_id(project)}/languages", what=f"Project {project}")
    return {"project": project, "languages": data}


@tool(READ, "projects", routes=("GET /projects/:id/events",))
@shared_parameters(event_filters)
async def list_project_events(project: ProjectRef, **filters: Any) -> dict[str, Any]:
    """A project's recent activity (pushes, comments, opened/merged MRs and issues), newest first."""
    return await events_page(f"/projects/{path_id(project)}/events", f"Project {project}", **filters)
