"""Simulated GitLab API: branches, tags and their protection.

doc/api/branches.md, doc/api/protected_branches.md, doc/api/tags.md, doc/api/protected_tags.md; the
errors as lib/api/branches.rb, lib/api/protected_branches.rb, lib/api/tags.rb and
app/services/{branches,tags}/* give them. Branch and commit rows are the repository area's; this
area adds `world.table("tags")` ({project_id, name, commit, message, created_at, tag_id}: `message`,
`created_at` and `tag_id` are None for a lightweight tag) and `world.table("protected_tags")`
({project_id, id, name, create_access_level}), and seeds `protected_branches`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from fnmatch import fnmatchcase
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
from tests.gitlab_sim.world import MAINTAINER, World

LEVELS = {0: "No one", 30: "Developers + Maintainers", 40: "Maintainers", 60: "Admins"}


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/repository/branches")(list_branches)
    router.route("GET", "/projects/:id/repository/branches/:branch")(get_branch)
    router.route("POST", "/projects/:id/repository/branches")(create_branch)
    router.route("DELETE", "/projects/:id/repository/branches/:branch")(delete_branch)
    router.route("DELETE", "/projects/:id/repository/merged_branches")(delete_merged_branches)
    router.route("GET", "/projects/:id/protected_branches")(list_protected_branches)
    router.route("POST", "/projects/:id/protected_branches")(protect_branch)
    router.route("DELETE", "/projects/:id/protected_branches/:name")(unprotect_branch)
    router.route("GET", "/projects/:id/repository/tags")(list_tags)
    router.route("GET", "/projects/:id/repository/tags/:tag_name")(get_tag)
    router.route("POST", "/projects/:id/repository/tags")(create_tag)
    router.route("DELETE", "/projects/:id/repository/tags/:tag_name")(delete_tag)
    router.route("GET", "/projects/:id/protected_tags")(list_protected_tags)
    router.route("POST", "/projects/:id/protected_tags")(protect_tag)
    router.route("DELETE", "/projects/:id/protected_tags/:name")(unprotect_tag)


def valid_ref_name(name: str) -> bool:
    """Gitlab::GitRefValidator, roughly `git check-ref-format`."""
    bad = re.search(r"[\s~^:?*\[\\]|\.\.|@\{|//", name) or name.startswith(("-", "/", ".")) or name == "HEAD"
    return not bad and not name.endswith(("/", ".", ".lock")) and bool(name)


def maintainer_project(call: Call) -> dict[str, Any] | Response:
    """`authorize_admin_project`: maintainers and owners; others get 403 (or 404 when hidden)."""
    project = code_project(call)
    if not isinstance(project, Response) and call.world.access_level(call.user_id, project["id"]) < MAINTAINER:
        return forbidden()
    return project


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
    rows = [b for b in branches_of(call.world, project["id"]) if _matches(b["name"], search, regex)]
    if sort == "name_asc":
        rows.sort(key=lambda b: b["name"])
    else:
        rows.sort(key=lambda b: commits[b["head"]]["committed_date"], reverse=sort == "updated_desc")
    return paginate(call, [render_branch(call, project, b) for b in rows])


def _matches(name: str, search: str | None, regex: str | None = None) -> bool:
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


# --- tags -----------------------------------------------------------------------------------------
def tags_of(world: World, pid: int) -> list[dict[str, Any]]:
    return [t for t in world.table("tags") if t["project_id"] == pid]


def tag_protections(world: World, pid: int, name: str) -> list[dict[str, Any]]:
    rows = [p for p in world.table("protected_tags") if p["project_id"] == pid]
    return [p for p in rows if p["name"] == name or ("*" in p["name"] and fnmatchcase(name, p["name"]))]


def render_tag(world: World, project: dict[str, Any], tag: dict[str, Any]) -> dict[str, Any]:
    """Entities::Tag: `target` is the tag object for an annotated tag, else the commit (doc/api/tags.md)."""
    commit = commits_of(world, project["id"])[tag["commit"]]
    release = next(
        (
            r
            for r in world.table("releases")
            if r.get("project_id") == project["id"] and r.get("tag_name") == tag["name"]
        ),
        None,
    )
    return {
        "name": tag["name"],
        "message": tag["message"],
        "target": tag["tag_id"] or tag["commit"],
        "commit": public_commit(commit),
        "release": {"tag_name": tag["name"], "description": release.get("description")} if release else None,
        "protected": bool(tag_protections(world, project["id"], tag["name"])),
        "created_at": tag["created_at"],
    }


async def list_tags(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    order, sort = call.arg("order_by", "updated"), call.arg("sort", "desc")
    if order not in ("name", "updated", "version"):
        return invalid_value("order_by")
    if sort not in ("asc", "desc"):
        return invalid_value("sort")
    commits = commits_of(call.world, project["id"])
    rows = [t for t in tags_of(call.world, project["id"]) if _matches(t["name"], call.arg("search"))]
    if order == "updated":
        rows.sort(key=lambda t: commits[t["commit"]]["committed_date"])
    elif order == "version":
        rows.sort(key=lambda t: [int(n) for n in re.findall(r"\d+", t["name"])])
    else:
        rows.sort(key=lambda t: t["name"])
    if sort == "desc":
        rows.reverse()
    return paginate(call, [render_tag(call.world, project, t) for t in rows])


async def get_tag(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    tag = next((t for t in tags_of(call.world, project["id"]) if t["name"] == call.params["tag_name"]), None)
    if tag is None:
        return not_found("Tag")
    return JSONResponse(render_tag(call.world, project, tag))


async def create_tag(call: Call) -> Response:
    project = push_project(call)  # authorize_admin_tag: developers and up
    if isinstance(project, Response):
        return project
    missing = [f"{name} is missing" for name in ("tag_name", "ref") if call.arg(name) is None]
    if missing:
        return param_error(", ".join(missing))
    name, ref, message = call.arg("tag_name"), call.arg("ref"), (call.arg("message") or "").strip() or None
    world, pid = call.world, project["id"]
    if not ref:
        return bad_request("Target is empty")
    if not valid_ref_name(name):
        return bad_request("Tag name invalid")
    if any(t["name"] == name for t in tags_of(world, pid)):
        return bad_request(f"Tag {name} already exists")  # the service's 409 is rendered as 400 (lib/api/tags.rb)
    rules = tag_protections(world, pid, name)
    level = world.access_level(call.user_id, pid)
    if rules and not any(0 < r["create_access_level"] <= level for r in rules):
        return bad_request("You are not allowed to create this tag as it is protected.")
    commit = resolve(world, project, ref)
    if commit is None:
        return bad_request(f"Target {ref} is invalid")
    when = datetime.now(UTC).isoformat(timespec="milliseconds") if message else None
    tag_id = hashlib.sha1(f"{pid}\n{name}\n{message}".encode(), usedforsecurity=False).hexdigest() if message else None
    tag = {"project_id": pid, "name": name, "commit": commit["id"], "message": message}
    world.table("tags").append(tag | {"created_at": when, "tag_id": tag_id})
    return JSONResponse(render_tag(world, project, world.table("tags")[-1]), status_code=201)


async def delete_tag(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    world, pid = call.world, project["id"]
    tag = next((t for t in tags_of(world, pid) if t["name"] == call.params["tag_name"]), None)
    if tag is None:
        return not_found("Tag")
    # authorize!(:delete_tag, tag): developers, and maintainers only for a protected tag.
    needed = MAINTAINER if tag_protections(world, pid, tag["name"]) else 30
    if world.access_level(call.user_id, pid) < needed:
        return forbidden()
    world.table("tags").remove(tag)
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


# --- seed -----------------------------------------------------------------------------------------
def seed(world: World) -> None:
    """Protected main branches (maintainers push and merge); acme/app's tags v0.1.0 (lightweight)
    and v1.0.0 (annotated), with `v*` protected; acme/website's v1.0."""
    for pid in (101, 102, 104):
        world.table("protected_branches").append(
            {
                "project_id": pid,
                "id": world.next_id(),
                "name": "main",
                "push_access_level": 40,
                "merge_access_level": 40,
                "allow_force_push": False,
            }
        )
    heads = {(b["project_id"], b["name"]): b["head"] for b in world.table("branches")}
    app = [c["id"] for c in reversed(history(world, 101, heads[(101, "main")]))]
    _tag(world, 101, "v0.1.0", app[1])
    _tag(world, 101, "v1.0.0", app[-1], "Release 1.0.0", "2024-03-02T12:00:00.000+00:00")
    _tag(world, 102, "v1.0", heads[(102, "main")])
    world.table("protected_tags").append(
        {"project_id": 101, "id": world.next_id(), "name": "v*", "create_access_level": 40}
    )


def _tag(world: World, pid: int, name: str, sha: str, message: str | None = None, when: str | None = None) -> None:
    tag_id = hashlib.sha1(f"{pid}\n{name}".encode(), usedforsecurity=False).hexdigest() if message else None
    row = {"project_id": pid, "name": name, "commit": sha, "message": message, "created_at": when, "tag_id": tag_id}
    world.table("tags").append(row)
