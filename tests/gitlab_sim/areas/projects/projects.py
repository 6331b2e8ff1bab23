"""Projects: list, get, create, update, delete, archive, star and languages (doc/api/projects.md)."""

from __future__ import annotations

import re

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim import keyset
from tests.gitlab_sim.areas.projects.rules import (
    PATH_ERROR,
    PATH_RE,
    Project,
    add_readme,
    can_create_in,
    find_namespace,
    new_project,
    project_with_role,
    readable_project,
    shown,
    taken_errors,
    visibility_error,
    with_permissions,
)
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    error,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import GUEST, MAINTAINER, OWNER, now

ORDERS = ("id", "name", "path", "created_at", "updated_at", "last_activity_at", "star_count")


UPDATABLE = ("name", "description", "default_branch", "visibility", "topics", "tag_list")


UPDATABLE += ("issues_enabled", "merge_requests_enabled", "wiki_enabled", "jobs_enabled")


LANGUAGES = {".py": "Python", ".sh": "Shell", ".html": "HTML", ".css": "CSS", ".js": "JavaScript"}


LANGUAGES |= {".ts": "TypeScript", ".rb": "Ruby", ".go": "Go", ".rs": "Rust", ".java": "Java"}


# --- projects --------------------------------------------------------------------------------------
def filtered_projects(call: Call, projects: list[Project]) -> Response:
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
    return filtered_projects(call, list(call.world.projects.values()))


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
    ns = find_namespace(world, call.arg("namespace_id") or uid)
    if ns is None or not can_create_in(world, uid, ns):
        return bad_request({"namespace": ["is not valid"]})  # Projects::CreateService
    visibility = call.arg("visibility", "private")
    if (problem := visibility_error(world, ns, visibility)) is not None:
        return problem
    errors = taken_errors(world, ns, name, path)
    if not PATH_RE.match(path) or path.endswith((".git", ".atom")):
        errors["path"] = [PATH_ERROR]
    if errors:
        return bad_request(errors)
    topics = call.arg_list("topics")
    project = new_project(world, ns, name, path, uid or 0, visibility=visibility, topics=topics, tag_list=topics)
    project["description"] = call.arg("description")
    if call.flag("initialize_with_readme"):
        add_readme(world, project, call.arg("default_branch") or "main", uid or 0)
    return JSONResponse(with_permissions(call, project), status_code=201)


async def update_project(call: Call) -> Response:
    project = project_with_role(call, MAINTAINER)
    if isinstance(project, Response):
        return project
    changes = {k: call.body[k] for k in UPDATABLE if k in call.body}
    if not changes:
        return param_error(f"{', '.join(UPDATABLE)} are missing, at least one parameter must be provided")
    if "visibility" in changes:
        problem = visibility_error(call.world, project["namespace"], changes["visibility"])
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
