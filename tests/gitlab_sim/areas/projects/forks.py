"""Forks: fork a project and list its forks (doc/api/project_forks.md)."""

from __future__ import annotations

import copy

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects.projects import filtered_projects
from tests.gitlab_sim.areas.projects.rules import (
    SIMPLE_FIELDS,
    VISIBILITIES,
    can_create_in,
    find_namespace,
    new_project,
    readable_project,
    taken_errors,
    visibility_error,
    with_permissions,
)
from tests.gitlab_sim.http import (
    Call,
    error,
    not_found,
)
from tests.gitlab_sim.world import REPORTER, World


# --- forks -----------------------------------------------------------------------------------------
async def fork_project(call: Call) -> Response:
    source = readable_project(call)
    if source is None:
        return not_found("Project")
    world, uid = call.world, call.user_id
    if source["visibility"] != "public" and world.access_level(uid, source["id"]) < REPORTER:
        return not_found()  # lib/api/projects.rb: not_found! unless can?(:fork_project)
    target = call.arg("namespace_id") or call.arg("namespace_path") or call.arg("namespace") or uid
    ns = find_namespace(world, target)
    if ns is None:
        return not_found("Namespace")
    if not can_create_in(world, uid, ns):
        return not_found("Target Namespace")
    name, path = call.arg("name") or source["name"], call.arg("path") or source["path"]
    errors = taken_errors(world, ns, name, path)
    if errors:
        return error(409, errors)
    wanted = call.arg("visibility") or source["visibility"]
    if (problem := visibility_error(world, ns, wanted)) is not None:
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
    return filtered_projects(call, forks)
