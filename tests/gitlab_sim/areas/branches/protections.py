"""Protected branches and tags: list, protect and unprotect (doc/api/protected_branches.md,
doc/api/protected_tags.md); changing them takes a Maintainer."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.repository import (
    code_project,
)
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import MAINTAINER

LEVELS = {0: "No one", 30: "Developers + Maintainers", 40: "Maintainers", 60: "Admins"}


def maintainer_project(call: Call) -> dict[str, Any] | Response:
    """`authorize_admin_project`: maintainers and owners; others get 403 (or 404 when hidden)."""
    project = code_project(call)
    if not isinstance(project, Response) and call.world.access_level(call.user_id, project["id"]) < MAINTAINER:
        return forbidden()
    return project


# --- protected branches ---------------------------------------------------------------------------
def _access(level: int, kind: str) -> list[dict[str, Any]]:
    return [{"id": level * 100 + len(kind), "access_level": level, "access_level_description": LEVELS[level]}]


def render_protected_branch(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "push_access_levels": _access(row["push_access_level"], "push"),
        "merge_access_levels": _access(row["merge_access_level"], "merge"),
        "allow_force_push": row["allow_force_push"],
        "code_owner_approval_required": False,
    }


async def list_protected_branches(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    search = (call.arg("search") or "").lower()
    rows = [p for p in call.world.table("protected_branches") if p["project_id"] == project["id"]]
    return paginate(call, [render_protected_branch(p) for p in rows if search in p["name"].lower()])


def _level(call: Call, name: str, allowed: tuple[int, ...]) -> int | Response:
    value = call.arg(name, 40)
    if str(value) not in {str(a) for a in allowed}:
        return invalid_value(name)
    return int(value)


async def protect_branch(call: Call) -> Response:
    project = maintainer_project(call)
    if isinstance(project, Response):
        return project
    name = call.arg("name")
    if not name:
        return missing_param("name")
    levels = {}
    for key in ("push_access_level", "merge_access_level"):
        level = _level(call, key, (0, 30, 40, 60))
        if isinstance(level, Response):
            return level
        levels[key] = level
    rows = call.world.table("protected_branches")
    if any(p["project_id"] == project["id"] and p["name"] == name for p in rows):
        return error(409, f"Protected branch '{name}' already exists")
    row = {"project_id": project["id"], "id": call.world.next_id(), "name": name, **levels}
    rows.append(row | {"allow_force_push": bool(call.flag("allow_force_push"))})
    return JSONResponse(render_protected_branch(rows[-1]), status_code=201)


async def unprotect_branch(call: Call) -> Response:
    project = maintainer_project(call)
    if isinstance(project, Response):
        return project
    rows = call.world.table("protected_branches")
    row = next((p for p in rows if p["project_id"] == project["id"] and p["name"] == call.params["name"]), None)
    if row is None:
        return not_found()  # find_by! → ActiveRecord::RecordNotFound → "404 Not found"
    rows.remove(row)
    return Response(status_code=204)


# --- protected tags -------------------------------------------------------------------------------
def render_protected_tag(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "create_access_levels": _access(row["create_access_level"], "create")}


async def list_protected_tags(call: Call) -> Response:
    project = maintainer_project(call)
    if isinstance(project, Response):
        return project
    rows = [p for p in call.world.table("protected_tags") if p["project_id"] == project["id"]]
    return paginate(call, [render_protected_tag(p) for p in rows])


async def protect_tag(call: Call) -> Response:
    project = maintainer_project(call)
    if isinstance(project, Response):
        return project
    name = call.arg("name")
    if not name:
        return missing_param("name")
    level = _level(call, "create_access_level", (0, 30, 40))
    if isinstance(level, Response):
        return level
    rows = call.world.table("protected_tags")
    if any(p["project_id"] == project["id"] and p["name"] == name for p in rows):
        return error(409, f"Protected tag '{name}' already exists")
    rows.append({"project_id": project["id"], "id": call.world.next_id(), "name": name, "create_access_level": level})
    return JSONResponse(render_protected_tag(rows[-1]), status_code=201)


async def unprotect_tag(call: Call) -> Response:
    project = maintainer_project(call)
    if isinstance(project, Response):
        return project
    rows = call.world.table("protected_tags")
    row = next((p for p in rows if p["project_id"] == project["id"] and p["name"] == call.params["name"]), None)
    if row is None:
        return not_found()
    rows.remove(row)
    return Response(status_code=204)
