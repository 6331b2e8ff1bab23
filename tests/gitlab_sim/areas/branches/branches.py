"""Branches: list, get, create, delete one or the merged ones (doc/api/branches.md); what a valid ref
name is."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.repository import (
    branches_of,
    can_push,
    code_project,
    commits_of,
    find_branch,
    history,
    protections,
    public_commit,
    push_project,
    resolve,
    tree_at,
)
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import MAINTAINER, World


def valid_ref_name(name: str) -> bool:
    """Gitlab::GitRefValidator, roughly `git check-ref-format`."""
    bad = re.search(r"[\s~^:?*\[\\]|\.\.|@\{|//", name) or name.startswith(("-", "/", ".")) or name == "HEAD"
    return not bad and not name.endswith(("/", ".", ".lock")) and bool(name)


# --- branches -------------------------------------------------------------------------------------
def render_branch(call: Call, project: dict[str, Any], branch: dict[str, Any]) -> dict[str, Any]:
    """Entities::Branch (doc/api/branches.md)."""
    world, pid, name = call.world, project["id"], branch["name"]
    default = find_branch(world, pid, project["default_branch"])
    merged = {c["id"] for c in history(world, pid, default["head"])} if default else set()
    rules = protections(world, pid, name)
    return {
        "name": name,
        "merged": name != project["default_branch"] and branch["head"] in merged,
        "protected": bool(rules),
        "default": name == project["default_branch"],
        "developers_can_push": any(r["push_access_level"] == 30 for r in rules),
        "developers_can_merge": any(r["merge_access_level"] == 30 for r in rules),
        "can_push": can_push(world, project, call.user_id, name),
        "web_url": f"{project['web_url']}/-/tree/{name}",
        "commit": public_commit(commits_of(world, pid)[branch["head"]]),
    }


async def list_branches(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    search, regex = call.arg("search"), call.arg("regex")
    if search and regex:
        return param_error("search, regex are mutually exclusive")
    sort = call.arg("sort", "name_asc")
    if sort not in ("name_asc", "updated_asc", "updated_desc"):
        return invalid_value("sort")
    commits = commits_of(call.world, project["id"])
    rows = [b for b in branches_of(call.world, project["id"]) if name_matches(b["name"], search, regex)]
    if sort == "name_asc":
        rows.sort(key=lambda b: b["name"])
    else:
        rows.sort(key=lambda b: commits[b["head"]]["committed_date"], reverse=sort == "updated_desc")
    return paginate(call, [render_branch(call, project, b) for b in rows])


def name_matches(name: str, search: str | None, regex: str | None = None) -> bool:
    # `^term` and `term$` anchor the search (doc/api/branches.md); it is case-insensitive.
    if regex:
        return re.search(regex, name) is not None
    if not search:
        return True
    term, low = search.lower().strip("^$"), name.lower()
    if search.startswith("^") and search.endswith("$"):
        return low == term
    if search.startswith("^"):
        return low.startswith(term)
    if search.endswith("$"):
        return low.endswith(term)
    return term in low


async def get_branch(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    branch = find_branch(call.world, project["id"], call.params["branch"])
    if branch is None:
        return not_found("Branch")
    return JSONResponse(render_branch(call, project, branch))


async def create_branch(call: Call) -> Response:
    project = push_project(call)
    if isinstance(project, Response):
        return project
    missing = [f"{name} is missing" for name in ("branch", "ref") if call.arg(name) is None]
    if missing:
        return param_error(", ".join(missing))
    name, ref = call.arg("branch"), call.arg("ref")
    if not valid_ref_name(name):
        return bad_request("Branch name is invalid")
    if find_branch(call.world, project["id"], name) is not None:
        return bad_request("Branch already exists")
    commit = resolve(call.world, project, ref)
    if commit is None:
        return bad_request(f"Failed to create branch '{name}': invalid reference name '{ref}'")
    files = dict(tree_at(call.world, project["id"], commit["id"]))
    branch = {"project_id": project["id"], "name": name, "head": commit["id"]}
    call.world.table("branches").append(branch)
    call.world.files.setdefault(project["id"], {})[name] = files
    return JSONResponse(render_branch(call, project, branch), status_code=201)


def remove_branch(world: World, pid: int, name: str) -> None:
    world.rows["branches"] = [b for b in world.table("branches") if not (b["project_id"] == pid and b["name"] == name)]
    world.files.get(pid, {}).pop(name, None)


async def delete_branch(call: Call) -> Response:
    project = push_project(call)
    if isinstance(project, Response):
        return project
    name, pid = call.params["branch"], project["id"]
    if find_branch(call.world, pid, name) is None:
        return not_found("Branch")
    # Gitlab::Checks::BranchCheck, as Gitaly runs it for a deletion through the API.
    if name == project["default_branch"]:
        return bad_request("The default branch of a project cannot be deleted.")
    if protections(call.world, pid, name) and call.world.access_level(call.user_id, pid) < MAINTAINER:
        return bad_request(
            "You are not allowed to delete protected branches from this project. "
            "Only a project maintainer or owner can delete a protected branch."
        )
    remove_branch(call.world, pid, name)
    return Response(status_code=204)


async def delete_merged_branches(call: Call) -> Response:
    """Branches::DeleteMergedService: merged into the default branch, not protected, not in an open MR.
    GitLab runs it in the background and answers 202 at once; here it is done by then."""
    project = push_project(call)
    if isinstance(project, Response):
        return project
    world, pid = call.world, project["id"]
    default = find_branch(world, pid, project["default_branch"])
    merged = {c["id"] for c in history(world, pid, default["head"])} if default else set()
    open_mrs = [m for m in world.table("merge_requests") if m["project_id"] == pid and m["state"] == "opened"]
    busy = {m["source_branch"] for m in open_mrs} | {m["target_branch"] for m in open_mrs}
    for branch in list(branches_of(world, pid)):
        name = branch["name"]
        keep = name == project["default_branch"] or name in busy or protections(world, pid, name)
        if branch["head"] in merged and not keep:
            remove_branch(world, pid, name)
    return JSONResponse({"message": "202 Accepted"}, status_code=202)
