"""Simulated GitLab API: projects, forks, stars, languages and project members.

doc/api/projects.md, doc/api/project_forks.md, doc/api/members.md; roles as doc/user/permissions.md gives
them: Maintainers update a project and manage its members, Owners archive and delete it.

State: `world.projects`, `world.members` (project id → user id → role) and `world.starred`. A project created
in a group gets its group's members copied into `world.members` (so every area sees the inherited roles);
`world.extra["inherited"]` remembers which (project, user) pairs are inherited rather than direct, and
`world.extra["member_meta"]` the creation date, creator and expiry of direct memberships.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim import keyset
from tests.gitlab_sim.areas import groups as group_area
from tests.gitlab_sim.http import (
    Call,
    Router,
    bad_request,
    error,
    forbidden,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import GUEST, MAINTAINER, OWNER, REPORTER, SIM_URL, World, now

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
ORDERS = ("id", "name", "path", "created_at", "updated_at", "last_activity_at", "star_count")
VISIBILITIES = ("private", "internal", "public")
PATH_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$")
PATH_ERROR = (
    "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'"
)
UPDATABLE = ("name", "description", "default_branch", "visibility", "topics", "tag_list")
UPDATABLE += ("issues_enabled", "merge_requests_enabled", "wiki_enabled", "jobs_enabled")
LANGUAGES = {".py": "Python", ".sh": "Shell", ".html": "HTML", ".css": "CSS", ".js": "JavaScript"}
LANGUAGES |= {".ts": "TypeScript", ".rb": "Ruby", ".go": "Go", ".rs": "Rust", ".java": "Java"}


def register(router: Router) -> None:
    router.route("GET", "/projects")(list_projects)
    router.route("POST", "/projects")(create_project)
    router.route("GET", "/projects/:id")(get_project)
    router.route("PUT", "/projects/:id")(update_project)
    router.route("DELETE", "/projects/:id")(delete_project)
    router.route("POST", "/projects/:id/fork")(fork_project)
    router.route("GET", "/projects/:id/forks")(list_forks)
    for verb in ("archive", "unarchive"):
        router.route("POST", f"/projects/:id/{verb}")(archive_project)
    for verb in ("star", "unstar"):
        router.route("POST", f"/projects/:id/{verb}")(star_project)
    router.route("GET", "/projects/:id/languages")(languages)


def seed(world: World) -> None:
    world.extra["inherited"] = set()
    world.extra["member_meta"] = {}


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


def _namespace(world: World, ref: Any) -> dict[str, Any] | None:
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


def _can_create_in(world: World, user_id: int | None, ns: dict[str, Any]) -> bool:
    if ns["kind"] == "user":
        return ns["id"] == user_id
    # Groups let Maintainers create projects by default (project_creation_level).
    return group_area.group_level(world, user_id, world.groups[ns["id"]]) >= MAINTAINER


def _visibility_error(world: World, ns: dict[str, Any], visibility: str) -> Response | None:
    if visibility not in VISIBILITIES:
        return invalid_value("visibility")
    if ns["kind"] == "group":
        allowed = world.groups[ns["id"]]["visibility"]
        if VISIBILITIES.index(visibility) > VISIBILITIES.index(allowed):
            return bad_request({"visibility_level": [f"{visibility} is not allowed in a {allowed} group."]})
    return None


def _taken(world: World, ns: dict[str, Any], name: str, path: str) -> dict[str, list[str]]:
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


def _readme(world: World, project: Project, branch: str, author: int) -> None:
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


# --- projects --------------------------------------------------------------------------------------
def _filtered(call: Call, projects: list[Project]) -> Response:
    """The filters, order and shape shared by GET /projects and GET /projects/:id/forks."""
    world, uid = call.world, call.user_id
    refused = keyset.offset_refused(call, "Project")
    if refused is not None:
        return refused
    projects = [p for p in projects if world.can_read(uid, p)]
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
    if call.query.get("pagination") == "keyset":
        return keyset.by_id(call, projects, lambda p: shown(call, p))
    order = call.arg("order_by", "created_at")
    if order not in ORDERS:
        return invalid_value("order_by")
    projects.sort(key=lambda p: p.get(order) or 0, reverse=call.arg("sort", "desc") != "asc")
    return paginate(call, [shown(call, p) for p in projects])


async def list_projects(call: Call) -> Response:
    return _filtered(call, list(call.world.projects.values()))


async def get_project(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    return JSONResponse(with_permissions(call, project))


async def create_project(call: Call) -> Response:
    world, uid = call.world, call.user_id
    name, path = call.arg("name"), call.arg("path")
    if not name and not path:
        return param_error("name, path are missing, at least one parameter must be provided")
    name = name or path
    path = path or re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-")
    ns = _namespace(world, call.arg("namespace_id") or uid)
    if ns is None or not _can_create_in(world, uid, ns):
        return bad_request({"namespace": ["is not valid"]})  # Projects::CreateService
    visibility = call.arg("visibility", "private")
    if (problem := _visibility_error(world, ns, visibility)) is not None:
        return problem
    errors = _taken(world, ns, name, path)
    if not PATH_RE.match(path) or path.endswith((".git", ".atom")):
        errors["path"] = [PATH_ERROR]
    if errors:
        return bad_request(errors)
    topics = call.arg_list("topics")
    project = new_project(world, ns, name, path, uid or 0, visibility=visibility, topics=topics, tag_list=topics)
    project["description"] = call.arg("description")
    if call.flag("initialize_with_readme"):
        _readme(world, project, call.arg("default_branch") or "main", uid or 0)
    return JSONResponse(with_permissions(call, project), status_code=201)


async def update_project(call: Call) -> Response:
    project = project_with_role(call, MAINTAINER)
    if isinstance(project, Response):
        return project
    changes = {k: call.body[k] for k in UPDATABLE if k in call.body}
    if not changes:
        return param_error(f"{', '.join(UPDATABLE)} are missing, at least one parameter must be provided")
    if "visibility" in changes:
        problem = _visibility_error(call.world, project["namespace"], changes["visibility"])
        if problem is not None:
            return problem
    if "default_branch" in changes:
        names = {b["name"] for b in call.world.table("branches") if b["project_id"] == project["id"]}
        if changes["default_branch"] not in names:
            return bad_request(f"Could not change HEAD: branch '{changes['default_branch']}' does not exist")
    if key := next((k for k in ("topics", "tag_list") if k in changes), None):
        changes["topics"] = changes["tag_list"] = call.arg_list(key)  # tag_list: the deprecated name
    if "name" in changes:
        changes["name_with_namespace"] = f"{project['namespace']['name']} / {changes['name']}"
    project |= changes | {"updated_at": now()}
    return JSONResponse(with_permissions(call, project))


async def delete_project(call: Call) -> Response:
    project = project_with_role(call, OWNER)
    if isinstance(project, Response):
        return project
    world, pid = call.world, project["id"]
    del world.projects[pid]
    world.members.pop(pid, None)
    world.files.pop(pid, None)
    world.starred -= {s for s in world.starred if s[1] == pid}
    # doc/api/projects.md: deletion runs in the background; the API answers 202.
    return error(202, "202 Accepted")


async def archive_project(call: Call) -> Response:
    project = project_with_role(call, OWNER)
    if isinstance(project, Response):
        return project
    project["archived"] = call.request.url.path.endswith("/archive")
    return JSONResponse(with_permissions(call, project), status_code=201)


async def star_project(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    key, star = (call.user_id, project["id"]), call.request.url.path.endswith("/star")
    if (key in call.world.starred) == star:
        return Response(status_code=304)  # doc/api/projects.md: already (un)starred
    if star:
        call.world.starred.add(key)
    else:
        call.world.starred.discard(key)
    project["star_count"] += 1 if star else -1
    return JSONResponse(with_permissions(call, project), status_code=201)


async def languages(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    files = call.world.files.get(project["id"], {}).get(project["default_branch"] or "", {})
    sizes: dict[str, int] = {}
    for path, data in files.items():
        language = LANGUAGES.get("." + path.rsplit(".", 1)[-1]) if "." in path else None
        if language:
            sizes[language] = sizes.get(language, 0) + len(data)
    total = sum(sizes.values())
    ranked = sorted(sizes.items(), key=lambda kv: -kv[1])
    return JSONResponse({lang: round(100 * size / total, 2) for lang, size in ranked})


# --- forks -----------------------------------------------------------------------------------------
async def fork_project(call: Call) -> Response:
    source = readable_project(call)
    if source is None:
        return not_found("Project")
    world, uid = call.world, call.user_id
    if source["visibility"] != "public" and world.access_level(uid, source["id"]) < REPORTER:
        return not_found()  # lib/api/projects.rb: not_found! unless can?(:fork_project)
    target = call.arg("namespace_id") or call.arg("namespace_path") or call.arg("namespace") or uid
    ns = _namespace(world, target)
    if ns is None:
        return not_found("Namespace")
    if not _can_create_in(world, uid, ns):
        return not_found("Target Namespace")
    name, path = call.arg("name") or source["name"], call.arg("path") or source["path"]
    errors = _taken(world, ns, name, path)
    if errors:
        return error(409, errors)
    wanted = call.arg("visibility") or source["visibility"]
    if (problem := _visibility_error(world, ns, wanted)) is not None:
        return problem
    visibility = min(wanted, source["visibility"], key=VISIBILITIES.index)  # never more visible than the source
    keep = ("description", "default_branch", "topics", "tag_list", "empty_repo")
    fork = new_project(world, ns, name, path, uid or 0, visibility=visibility, **{k: source[k] for k in keep})
    fork["forked_from_project"] = {k: source[k] for k in SIMPLE_FIELDS if k in source}
    fork["readme_url"] = source["readme_url"] and source["readme_url"].replace(source["web_url"], fork["web_url"])
    _copy_repository(world, source["id"], fork["id"])
    source["forks_count"] += 1
    return JSONResponse(with_permissions(call, fork), status_code=201)


def _copy_repository(world: World, source: int, fork: int) -> None:
    """A fork starts with the source's branches, commits and files."""
    world.files[fork] = copy.deepcopy(world.files.get(source, {}))
    for kind in ("commits", "branches"):
        rows = world.table(kind)
        rows.extend({**row, "project_id": fork} for row in list(rows) if row["project_id"] == source)


async def list_forks(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    forks = [p for p in call.world.projects.values() if p.get("forked_from_project", {}).get("id") == project["id"]]
    return _filtered(call, forks)
