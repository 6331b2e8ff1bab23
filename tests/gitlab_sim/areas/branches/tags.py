"""Tags: list, get, create and delete (doc/api/tags.md)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.branches.branches import name_matches, valid_ref_name
from tests.gitlab_sim.areas.repository import (
    code_project,
    commits_of,
    public_commit,
    push_project,
    resolve,
)
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    forbidden,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import MAINTAINER, World


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
    rows = [t for t in tags_of(call.world, project["id"]) if name_matches(t["name"], call.arg("search"))]
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
