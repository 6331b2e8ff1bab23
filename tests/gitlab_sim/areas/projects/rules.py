"""Who may read or create projects, finding namespaces, new project rows and a project as GitLab shows it
(with the caller's permissions)."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from tests.gitlab_sim.areas import groups as group_area
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    forbidden,
    invalid_value,
    not_found,
)
from tests.gitlab_sim.world import MAINTAINER, OWNER, SIM_URL, World, now

Project = dict[str, Any]


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


VISIBILITIES = ("private", "internal", "public")


PATH_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$")


PATH_ERROR = (
    "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'"
)


# --- rules -----------------------------------------------------------------------------------------
def readable_project(call: Call, key: str = "id") -> Project | None:
    """The project named in the path, or None when it does not exist or the caller cannot see it."""
    project = call.world.find_project(call.params[key])
    if project is None or not call.world.can_read(call.user_id, project):
        return None
    return project


def with_permissions(call: Call, project: Project) -> Project:
    level = call.world.access_level(call.user_id, project["id"])
    access = {"access_level": level, "notification_level": 3} if level else None
    return {**project, "permissions": {"project_access": access, "group_access": None}}


def shown(call: Call, project: Project) -> Project:
    """A project in a list: the simple fields when `simple=true`, else everything and your permissions."""
    if call.flag("simple"):
        return {k: project[k] for k in SIMPLE_FIELDS if k in project}
    return with_permissions(call, project)


def project_with_role(call: Call, need: int) -> Project | Response:
    """The project of the path when the caller has at least role `need` in it: 404 hidden, 403 too low."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if call.world.access_level(call.user_id, project["id"]) < need:
        return forbidden()
    return project


def find_namespace(world: World, ref: Any) -> dict[str, Any] | None:
    """A namespace by id or full path: a group, or a user's personal namespace (its id is the user's)."""
    ref = str(ref)
    group = group_area.find_group(world, ref)
    if group is not None:
        keys = ("id", "name", "path", "full_path", "parent_id", "avatar_url", "web_url")
        return {"kind": "group", **{k: group.get(k) for k in keys}}
    user = world.users.get(int(ref)) if ref.isdigit() else world.by_username(ref)
    if user is None:
        return None
    name, path = user["username"], user["username"]
    return {"id": user["id"], "name": name, "path": path, "kind": "user", "full_path": path, "parent_id": None}


def can_create_in(world: World, user_id: int | None, ns: dict[str, Any]) -> bool:
    if ns["kind"] == "user":
        return ns["id"] == user_id
    # Groups let Maintainers create projects by default (project_creation_level).
    return group_area.group_level(world, user_id, world.groups[ns["id"]]) >= MAINTAINER


def visibility_error(world: World, ns: dict[str, Any], visibility: str) -> Response | None:
    if visibility not in VISIBILITIES:
        return invalid_value("visibility")
    if ns["kind"] == "group":
        allowed = world.groups[ns["id"]]["visibility"]
        if VISIBILITIES.index(visibility) > VISIBILITIES.index(allowed):
            return bad_request({"visibility_level": [f"{visibility} is not allowed in a {allowed} group."]})
    return None


def taken_errors(world: World, ns: dict[str, Any], name: str, path: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for p in world.projects.values():
        if p["namespace"]["full_path"] == ns["full_path"]:
            if p["name"].lower() == name.lower():
                errors["name"] = ["has already been taken"]
            if p["path"].lower() == path.lower():
                errors["path"] = ["has already been taken"]
    return errors


def new_project(world: World, ns: dict[str, Any], name: str, path: str, creator: int, **fields: Any) -> Project:
    """A project row in the shape seed.py gives its projects; members: the owner, or the group's members."""
    pid, full = world.next_id(), f"{ns['full_path']}/{path}"
    stamp = now()
    project = {
        "id": pid,
        "description": None,
        "name": name,
        "name_with_namespace": f"{ns['name']} / {name}",
        "path": path,
        "path_with_namespace": full,
        "created_at": stamp,
        "updated_at": stamp,
        "default_branch": None,
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@gitlab.sim:{full}.git",
        "http_url_to_repo": f"{SIM_URL}/{full}.git",
        "web_url": f"{SIM_URL}/{full}",
        "readme_url": None,
        "avatar_url": None,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": stamp,
        "namespace": {k: ns[k] for k in ("id", "name", "path", "kind", "full_path")},
        "visibility": "private",
        "archived": False,
        "empty_repo": True,
        "open_issues_count": 0,
        "issues_enabled": True,
        "merge_requests_enabled": True,
        "jobs_enabled": True,
        "wiki_enabled": True,
        "creator_id": creator,
        "import_status": "none",
        **fields,
    }
    world.projects[pid] = project
    if ns["kind"] == "user":
        world.members[pid] = {creator: OWNER}
        world.extra["member_meta"][(pid, creator)] = {"created_at": stamp, "created_by": creator}
    else:
        world.members[pid] = group_area.inherited_levels(world, world.groups[ns["id"]])
        world.extra["inherited"].update((pid, uid) for uid in world.members[pid])
    return project


def add_readme(world: World, project: Project, branch: str, author: int) -> None:
    """The first commit of a project created with initialize_with_readme (repository area's row shapes)."""
    data = f"# {project['name']}\n".encode()
    user, stamp = world.users[author], now().replace("Z", "+00:00")
    sha = f"{project['id']:08x}".ljust(40, "0")
    commit = {"project_id": project["id"], "paths": ["README.md"], "id": sha, "short_id": sha[:8]}
    commit |= {"created_at": stamp, "parent_ids": [], "title": "Initial commit", "message": "Initial commit\n"}
    commit |= {"author_name": user["name"], "author_email": user["email"], "authored_date": stamp}
    commit |= {"committer_name": user["name"], "committer_email": user["email"], "committed_date": stamp}
    commit |= {"trailers": {}, "extended_trailers": {}, "web_url": f"{project['web_url']}/-/commit/{sha}"}
    world.table("commits").append(commit)
    world.table("branches").append(
        {"project_id": project["id"], "name": branch, "head": sha, "protected": True}
        | {"developers_can_push": False, "developers_can_merge": False}
    )
    world.files[project["id"]] = {branch: {"README.md": data}}
    project |= {"default_branch": branch, "empty_repo": False}
    project["readme_url"] = f"{project['web_url']}/-/blob/{branch}/README.md"
