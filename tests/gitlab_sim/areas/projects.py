"""Simulated GitLab API: projects (doc/api/projects.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.http import Call, Router, invalid_value, not_found, paginate
from tests.gitlab_sim.world import GUEST, OWNER, World

SIMPLE_FIELDS = (
    "id",
    "description",
    "name",
    "name_with_namespace",
    "path",
    "path_with_namespace",
    "created_at",
    "default_branch",
    "tag_list",
    "topics",
    "ssh_url_to_repo",
    "http_url_to_repo",
    "web_url",
    "readme_url",
    "forks_count",
    "avatar_url",
    "star_count",
    "last_activity_at",
    "namespace",
    "visibility",
)
ORDERS = ("id", "name", "path", "created_at", "updated_at", "last_activity_at", "star_count")


def register(router: Router) -> None:
    router.route("GET", "/projects")(list_projects)
    router.route("GET", "/projects/:id")(get_project)


def seed(world: World) -> None:
    pass


def readable_project(call: Call, key: str = "id") -> dict[str, Any] | None:
    """The project named in the path, or None when it does not exist or the caller cannot see it."""
    project = call.world.find_project(call.params[key])
    if project is None or not call.world.can_read(call.user_id, project):
        return None
    return project


def with_permissions(call: Call, project: dict[str, Any]) -> dict[str, Any]:
    level = call.world.access_level(call.user_id, project["id"])
    access = {"access_level": level, "notification_level": 3} if level else None
    return {**project, "permissions": {"project_access": access, "group_access": None}}


async def list_projects(call: Call) -> Response:
    world, uid = call.world, call.user_id
    projects = [p for p in world.projects.values() if world.can_read(uid, p)]
    if call.flag("membership"):
        projects = [p for p in projects if world.access_level(uid, p["id"]) >= GUEST]
    if call.flag("owned"):
        projects = [p for p in projects if world.access_level(uid, p["id"]) >= OWNER]
    if call.flag("starred"):
        projects = [p for p in projects if (uid, p["id"]) in world.starred]
    if call.flag("archived") is not None:
        projects = [p for p in projects if p["archived"] == call.flag("archived")]
    if visibility := call.arg("visibility"):
        projects = [p for p in projects if p["visibility"] == visibility]
    if search := call.arg("search"):
        term = search.lower()
        projects = [p for p in projects if term in p["name"].lower() or term in p["path_with_namespace"].lower()]
    order = call.arg("order_by", "created_at")
    if order not in ORDERS:
        return invalid_value("order_by")
    projects.sort(key=lambda p: p.get(order) or 0, reverse=call.arg("sort", "desc") != "asc")
    if call.flag("simple"):
        projects = [{k: p[k] for k in SIMPLE_FIELDS if k in p} for p in projects]
    else:
        projects = [with_permissions(call, p) for p in projects]
    return paginate(call, projects)


async def get_project(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    return JSONResponse(with_permissions(call, project))
