"""Simulated GitLab API: groups, subgroups, their projects, and group and project members.

doc/api/groups.md, doc/api/members.md; Maintainers manage a project's members, only Owners make Owners.

State: `world.groups` (GitLab's group JSON; `parent_id` links subgroups) and `world.table("group_members")`
(`group_id`, `user_id`, `access_level`, `created_at`, `expires_at`, `created_by`). Membership is inherited
down the tree: a member of acme is a member of acme/platform with the same role.

Project members live in `world.members` (see the projects area for inherited pairs and member metadata).

Seed: acme (10, public, alice maintainer), its private subgroup acme/platform (11, charlie developer) and
bob's private labs (12, bob owner). acme is made public here: GitLab does not allow a public project
(acme/website) in a private group.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas import projects as project_area
from tests.gitlab_sim.http import (
    Call,
    Router,
    bad_request,
    error,
    forbidden,
    invalid_value,
    missing_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import DEVELOPER, GUEST, MAINTAINER, OWNER, REPORTER, SIM_URL, World, now

Group = dict[str, Any]
LEVELS = (GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER)


def register(router: Router) -> None:
    router.route("GET", "/groups")(list_groups)
    router.route("GET", "/groups/:id")(get_group)
    router.route("GET", "/groups/:id/subgroups")(list_subgroups)
    router.route("GET", "/groups/:id/projects")(list_group_projects)
    router.route("GET", "/groups/:id/members")(list_members)
    router.route("GET", "/groups/:id/members/all")(list_all_members)
    router.route("GET", "/projects/:id/members")(list_project_members)
    router.route("GET", "/projects/:id/members/all")(list_all_project_members)
    router.route("POST", "/projects/:id/members")(add_project_member)
    router.route("PUT", "/projects/:id/members/:user_id")(update_project_member)
    router.route("DELETE", "/projects/:id/members/:user_id")(remove_project_member)


def seed(world: World) -> None:
    world.groups[10].update(_group_fields(world.groups[10], "Acme", None, "The Acme company"), visibility="public")
    world.groups[11] = {"id": 11, "path": "platform", "full_path": "acme/platform", "visibility": "private"}
    world.groups[11].update(_group_fields(world.groups[11], "Platform", 10, "Shared services of Acme"))
    world.groups[12] = {"id": 12, "path": "labs", "full_path": "labs", "visibility": "private"}
    world.groups[12].update(_group_fields(world.groups[12], "Labs", None, "Bob's experiments"))
    for gid, uid, level in ((10, 1, MAINTAINER), (11, 3, DEVELOPER), (12, 2, OWNER)):
        world.table("group_members").append(
            {"group_id": gid, "user_id": uid, "access_level": level, "created_by": None}
            | {"created_at": "2024-01-15T09:00:00.000Z", "expires_at": None}
        )


def _group_fields(group: Group, name: str, parent: int | None, description: str) -> Group:
    full_name = name if parent is None else f"Acme / {name}"
    return {
        "name": name,
        "description": description,
        "full_name": full_name,
        "parent_id": parent,
        "web_url": f"{SIM_URL}/groups/{group['full_path']}",
        "avatar_url": None,
        "created_at": "2024-01-10T09:00:00.000Z",
        "project_creation_level": "maintainer",
        "subgroup_creation_level": "maintainer",
        "request_access_enabled": True,
    }


# --- rules (also used by the projects area) ---------------------------------------------------------
def find_group(world: World, ref: str) -> Group | None:
    if ref.isdigit():
        return world.groups.get(int(ref))
    return next((g for g in world.groups.values() if g["full_path"] == ref), None)


def ancestors(world: World, group: Group) -> list[Group]:
    """The group itself, then its parent, up to the top."""
    chain = [group]
    while chain[-1].get("parent_id") is not None:
        chain.append(world.groups[chain[-1]["parent_id"]])
    return chain


def descendants(world: World, group: Group) -> list[Group]:
    """The group and every group below it."""
    return [g for g in world.groups.values() if group in ancestors(world, g)]


def inherited_levels(world: World, group: Group) -> dict[int, int]:
    """user id → highest role in this group, direct or inherited from an ancestor."""
    ids = {g["id"] for g in ancestors(world, group)}
    levels: dict[int, int] = {}
    for row in world.table("group_members"):
        if row["group_id"] in ids:
            levels[row["user_id"]] = max(levels.get(row["user_id"], 0), row["access_level"])
    return levels


def group_level(world: World, user_id: int | None, group: Group) -> int:
    return inherited_levels(world, group).get(user_id, 0) if user_id is not None else 0


def can_read_group(world: World, user_id: int | None, group: Group) -> bool:
    """Public or internal groups; members (of it, an ancestor or a descendant); members of a project in it."""
    if group["visibility"] == "public" or (group["visibility"] == "internal" and user_id is not None):
        return True
    if user_id is None:
        return False
    below = descendants(world, group)
    if any(group_level(world, user_id, g) >= GUEST for g in below):
        return True
    paths = {g["full_path"] for g in below}
    return any(
        p["namespace"]["full_path"] in paths and world.access_level(user_id, p["id"]) >= GUEST
        for p in world.projects.values()
    )


def member_json(world: World, user_id: int, level: int, meta: dict[str, Any]) -> dict[str, Any]:
    """A member as doc/api/members.md shows one."""
    created_by = meta.get("created_by")
    return {
        **world.user_ref(user_id),
        "locked": False,
        "access_level": level,
        "created_at": meta.get("created_at"),
        "created_by": world.user_ref(created_by) if created_by else None,
        "expires_at": meta.get("expires_at"),
        "membership_state": "active",
    }


def filter_members(call: Call, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `query` (name or username) and `user_ids` filters of the members list endpoints."""
    if query := (call.arg("query") or "").lower():
        members = [m for m in members if query in m["username"].lower() or query in m["name"].lower()]
    if ids := call.arg_list("user_ids"):
        members = [m for m in members if str(m["id"]) in ids]
    return sorted(members, key=lambda m: m["id"])


# --- endpoints ------------------------------------------------------------------------------------
def _readable_group(call: Call) -> Group | None:
    group = find_group(call.world, call.params["id"])
    if group is None or not can_read_group(call.world, call.user_id, group):
        return None
    return group


def _listed(call: Call, groups: list[Group], *, all_available: bool) -> Response:
    """The filters and order shared by GET /groups and GET /groups/:id/subgroups."""
    world, uid = call.world, call.user_id
    if not (call.flag("all_available") if call.flag("all_available") is not None else all_available):
        groups = [g for g in groups if _member_or_project_member(world, uid, g)]
    if search := (call.arg("search") or "").lower():
        groups = [g for g in groups if search in g["name"].lower() or search in g["path"].lower()]
    if call.flag("owned"):
        groups = [g for g in groups if _direct_level(world, uid, g) >= OWNER]
    if (level := call.arg("min_access_level")) is not None:
        if not str(level).isdigit() or int(level) not in LEVELS:
            return invalid_value("min_access_level")
        groups = [g for g in groups if group_level(world, uid, g) >= int(level)]
    order = call.arg("order_by", "name")
    if order not in ("name", "path", "id", "similarity"):
        return invalid_value("order_by")
    key = "name" if order == "similarity" else order
    groups = sorted(groups, key=lambda g: g[key], reverse=call.arg("sort", "asc") == "desc")
    return paginate(call, groups)


def _member_or_project_member(world: World, user_id: int | None, group: Group) -> bool:
    if group_level(world, user_id, group) >= GUEST:
        return True
    return any(
        p["namespace"]["full_path"] == group["full_path"] and world.access_level(user_id, p["id"]) >= GUEST
        for p in world.projects.values()
    )


def _direct_level(world: World, user_id: int | None, group: Group) -> int:
    rows = world.table("group_members")
    return max((r["access_level"] for r in rows if r["group_id"] == group["id"] and r["user_id"] == user_id), default=0)


async def list_groups(call: Call) -> Response:
    world = call.world
    groups = [g for g in world.groups.values() if can_read_group(world, call.user_id, g)]
    if call.flag("top_level_only"):
        groups = [g for g in groups if g.get("parent_id") is None]
    # doc/api/groups.md: all_available defaults to false for a user who is not an administrator.
    return _listed(call, groups, all_available=False)


async def get_group(call: Call) -> Response:
    group = _readable_group(call)
    if group is None:
        return not_found("Group")
    detail: Group = {**group, "shared_with_groups": []}
    if call.flag("with_projects") is not False:
        # doc/api/groups.md: the details embed the group's projects unless with_projects=false.
        detail["projects"] = _projects_in(call, [group])
        detail["shared_projects"] = []
    return JSONResponse(detail)


async def list_subgroups(call: Call) -> Response:
    group = _readable_group(call)
    if group is None:
        return not_found("Group")
    world = call.world
    children = [g for g in world.groups.values() if g.get("parent_id") == group["id"]]
    return _listed(call, [g for g in children if can_read_group(world, call.user_id, g)], all_available=True)


def _projects_in(call: Call, groups: list[Group]) -> list[dict[str, Any]]:
    paths = {g["full_path"] for g in groups}
    world = call.world
    found = [p for p in world.projects.values() if p["namespace"]["full_path"] in paths]
    return [p for p in found if world.can_read(call.user_id, p)]


async def list_group_projects(call: Call) -> Response:
    group = _readable_group(call)
    if group is None:
        return not_found("Group")
    projects = _projects_in(call, descendants(call.world, group) if call.flag("include_subgroups") else [group])
    if call.flag("archived") is not None:
        projects = [p for p in projects if p["archived"] == call.flag("archived")]
    if search := (call.arg("search") or "").lower():
        projects = [p for p in projects if search in p["name"].lower() or search in p["path"].lower()]
    if visibility := call.arg("visibility"):
        projects = [p for p in projects if p["visibility"] == visibility]
    order = call.arg("order_by", "created_at")
    if order not in project_area.ORDERS:
        return invalid_value("order_by")
    projects.sort(key=lambda p: (p.get(order) or 0, p["id"]), reverse=call.arg("sort", "desc") != "asc")
    return paginate(call, [project_area.shown(call, p) for p in projects])


async def list_members(call: Call) -> Response:
    group = _readable_group(call)
    if group is None:
        return not_found("Group")
    world = call.world
    rows = [r for r in world.table("group_members") if r["group_id"] == group["id"]]
    return paginate(call, filter_members(call, [member_json(world, r["user_id"], r["access_level"], r) for r in rows]))


async def list_all_members(call: Call) -> Response:
    group = _readable_group(call)
    if group is None:
        return not_found("Group")
    world = call.world
    ids = {g["id"] for g in ancestors(world, group)}
    best: dict[int, dict[str, Any]] = {}
    for row in world.table("group_members"):
        if row["group_id"] in ids and row["access_level"] > best.get(row["user_id"], {}).get("access_level", 0):
            best[row["user_id"]] = row
    members = [member_json(world, uid, r["access_level"], r) for uid, r in best.items()]
    return paginate(call, filter_members(call, members))


# --- project members ---------------------------------------------------------------------------------------
def _meta(world: World, pid: int, uid: int) -> dict[str, Any]:
    return world.extra["member_meta"].get((pid, uid), {"created_at": world.projects[pid]["created_at"]})


async def list_project_members(call: Call) -> Response:
    project = project_area.readable_project(call)
    if project is None:
        return not_found("Project")
    world, pid = call.world, project["id"]
    direct = {u: lvl for u, lvl in world.members.get(pid, {}).items() if (pid, u) not in world.extra["inherited"]}
    members = [member_json(world, u, lvl, _meta(world, pid, u)) for u, lvl in direct.items()]
    return paginate(call, filter_members(call, members))


async def list_all_project_members(call: Call) -> Response:
    """Direct and inherited members, each with their highest role (doc/api/members.md)."""
    project = project_area.readable_project(call)
    if project is None:
        return not_found("Project")
    world, pid = call.world, project["id"]
    levels = dict(world.members.get(pid, {}))
    group = world.groups.get(project["namespace"]["id"]) if project["namespace"]["kind"] == "group" else None
    for uid, level in (inherited_levels(world, group) if group else {}).items():
        levels[uid] = max(levels.get(uid, 0), level)
    members = [member_json(world, u, lvl, _meta(world, pid, u)) for u, lvl in levels.items()]
    return paginate(call, filter_members(call, members))


def _level(call: Call) -> int | Response:
    raw = call.arg("access_level")
    if raw is None:
        return missing_param("access_level")
    if not str(raw).isdigit() or int(raw) not in LEVELS:
        return invalid_value("access_level")
    return int(raw)


async def add_project_member(call: Call) -> Response:
    project = project_area.project_with_role(call, MAINTAINER)
    if isinstance(project, Response):
        return project
    world, pid = call.world, project["id"]
    ref, username = call.arg("user_id"), call.arg("username")
    if (ref is None) == (username is None):
        return param_error("user_id, username are missing, exactly one parameter must be provided")
    user = world.users.get(int(ref)) if ref is not None and str(ref).isdigit() else None
    user = user if username is None else world.by_username(str(username))
    level = _level(call)
    if isinstance(level, Response):
        return level
    if user is None:
        return not_found("User")
    uid = user["id"]
    if uid in world.members.get(pid, {}) and (pid, uid) not in world.extra["inherited"]:
        return error(409, "Member already exists")
    if level == OWNER and world.access_level(call.user_id, pid) < OWNER:
        return forbidden()  # only Owners make Owners
    inherited = world.members.get(pid, {}).get(uid, 0)
    if level < inherited:
        role = {10: "Guest", 20: "Reporter", 30: "Developer", 40: "Maintainer", 50: "Owner"}[inherited]
        return bad_request({"access_level": [f"should be greater than or equal to {role} inherited membership"]})
    world.members.setdefault(pid, {})[uid] = level
    world.extra["inherited"].discard((pid, uid))
    meta = {"created_at": now(), "created_by": call.user_id, "expires_at": call.arg("expires_at")}
    world.extra["member_meta"][(pid, uid)] = meta
    return JSONResponse(member_json(world, uid, level, meta), status_code=201)


def _direct_member(call: Call, project: dict[str, Any]) -> int | Response:
    """The user id of the path when they are a direct member the caller may manage."""
    world, pid = call.world, project["id"]
    uid = int(call.params["user_id"]) if call.params["user_id"].isdigit() else 0
    if uid not in world.members.get(pid, {}) or (pid, uid) in world.extra["inherited"]:
        return not_found("Member")
    mine = world.access_level(call.user_id, pid)
    if world.members[pid][uid] == OWNER and mine < OWNER:
        return forbidden()  # a Maintainer cannot change or remove an Owner
    return uid


async def update_project_member(call: Call) -> Response:
    project = project_area.project_with_role(call, MAINTAINER)
    if isinstance(project, Response):
        return project
    uid = _direct_member(call, project)
    if isinstance(uid, Response):
        return uid
    level = _level(call)
    if isinstance(level, Response):
        return level
    world, pid = call.world, project["id"]
    if level == OWNER and world.access_level(call.user_id, pid) < OWNER:
        return forbidden()
    world.members[pid][uid] = level
    meta = world.extra["member_meta"].setdefault((pid, uid), dict(_meta(world, pid, uid)))
    if "expires_at" in call.body:
        meta["expires_at"] = call.body["expires_at"]
    return JSONResponse(member_json(world, uid, level, meta))


async def remove_project_member(call: Call) -> Response:
    project = project_area.readable_project(call)
    if project is None:
        return not_found("Project")
    leaving = call.params["user_id"] == str(call.user_id)
    if not leaving and call.world.access_level(call.user_id, project["id"]) < MAINTAINER:
        return forbidden()
    uid = _direct_member(call, project)
    if isinstance(uid, Response):
        return uid
    del call.world.members[project["id"]][uid]
    call.world.extra["member_meta"].pop((project["id"], uid), None)
    return Response(status_code=204)
