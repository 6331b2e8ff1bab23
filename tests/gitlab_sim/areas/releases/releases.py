"""Releases: list, get, create, update and delete (doc/api/releases/_index.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.releases.links import add_link, link_errors
from tests.gitlab_sim.areas.releases.lookups import (
    Release,
    can_create_tag,
    can_download_code,
    find_release,
    level,
    release_project,
    render,
    tag_sha,
)
from tests.gitlab_sim.areas.repository import commits_of
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    paginate,
)
from tests.gitlab_sim.world import DEVELOPER, MAINTAINER, World, now


# --- releases --------------------------------------------------------------------------------------
async def list_releases(call: Call) -> Response:
    order, sort = call.arg("order_by", "released_at"), call.arg("sort", "desc")
    if order not in ("released_at", "created_at"):
        return invalid_value("order_by")
    if sort not in ("asc", "desc"):
        return invalid_value("sort")
    project = release_project(call, write=False)
    if isinstance(project, Response):
        return project
    rows = [r for r in call.world.table("releases") if r["project_id"] == project["id"]]
    rows.sort(key=lambda r: (r[order], r["id"]), reverse=sort == "desc")
    return paginate(call, [render(call, r) for r in rows])


async def get_release(call: Call) -> Response:
    project = release_project(call, write=False)
    if isinstance(project, Response):
        return project
    if not can_download_code(call, project):
        return forbidden()  # authorize_read_code!
    release = find_release(call.world, project["id"], call.params["tag_name"])
    if release is None:
        return error(404, "404 Not Found")  # not_found! without a resource name
    return JSONResponse(render(call, release))


async def create_release(call: Call) -> Response:
    project = release_project(call, write=True)
    if isinstance(project, Response):
        return project
    tag = call.arg("tag_name")
    if not tag:
        return missing_param("tag_name")
    links = (call.arg("assets") or {}).get("links") or []
    for n, link in enumerate(links):
        for key in ("name", "url"):
            if key not in link:
                return missing_param(f"assets[links][{n}][{key}]")
    released_at = _datetime(call.arg("released_at"))
    if call.arg("released_at") is not None and released_at is None:
        return invalid_param("released_at")
    if level(call, project) < DEVELOPER:
        return forbidden()  # authorize_create_release!: Developer and up
    world, pid = call.world, project["id"]
    if not can_create_tag(world, pid, level(call, project), tag):
        return error(403, "You are not allowed to create this tag as it is protected.")
    if find_release(world, pid, tag):
        return error(409, "Release already exists")
    milestones = _milestones(world, pid, call.arg_list("milestones"))
    if isinstance(milestones, Response):
        return milestones
    sha = tag_sha(world, pid, tag)
    if sha is None:
        ref = call.arg("ref")
        if not ref:
            return error(422, "Ref is not specified")
        sha = tag_sha(world, pid, ref) or _commit_of(world, project, ref)
        if sha is None:
            return error(400, f"Target {ref} is invalid")  # Tags::CreateService
        world.table("release_tags").append({"project_id": pid, "name": tag, "target": sha})
    problems = [p for n, link in enumerate(links) for p in link_errors(link, links[:n])]
    if problems:
        return error(400, f"Validation failed: {', '.join('Links ' + p[0].lower() + p[1:] for p in problems)}")
    when = now()
    release = {
        "id": world.next_id(),
        "project_id": pid,
        "tag_name": tag,
        "sha": sha,
        "name": call.arg("name") or tag,  # Releases::BaseService#name
        "description": call.arg("description"),
        "author_id": call.user_id,
        "created_at": when,
        "released_at": released_at or when,
        "milestone_ids": [m["id"] for m in milestones],
    }
    world.table("releases").append(release)
    for link in links:
        add_link(world, release, link)
    return JSONResponse(render(call, release), status_code=201)


async def update_release(call: Call) -> Response:
    project = release_project(call, write=True)
    if isinstance(project, Response):
        return project
    released_at = _datetime(call.arg("released_at"))
    if call.arg("released_at") is not None and released_at is None:
        return invalid_param("released_at")
    found = _writable_release(call, project, DEVELOPER)
    if isinstance(found, Response):
        return found
    changes = {k: call.arg(k) for k in ("name", "description") if call.arg(k) is not None}
    if not changes and released_at is None and "milestones" not in call.body:
        return error(400, "params is empty")
    if "milestones" in call.body:
        milestones = _milestones(call.world, project["id"], call.arg_list("milestones"))
        if isinstance(milestones, Response):
            return milestones
        found["milestone_ids"] = [m["id"] for m in milestones]  # [] removes them all
    found |= changes
    if released_at:
        found["released_at"] = released_at
    return JSONResponse(render(call, found))


async def delete_release(call: Call) -> Response:
    project = release_project(call, write=True)
    if isinstance(project, Response):
        return project
    # doc/api/releases/index.md: "Maintainer level access ... is required to delete a release"; the tag stays.
    found = _writable_release(call, project, MAINTAINER)
    if isinstance(found, Response):
        return found
    body = render(call, found)
    world = call.world
    world.rows["release_links"] = [link for link in world.table("release_links") if link["release_id"] != found["id"]]
    world.table("releases").remove(found)
    return JSONResponse(body)


def _writable_release(call: Call, project: dict[str, Any], needed: int) -> Release | Response:
    """Releases::UpdateService/DestroyService: the tag, then the release, then the permission."""
    tag = call.params["tag_name"]
    if tag_sha(call.world, project["id"], tag) is None:
        return error(404, "Tag does not exist")
    release = find_release(call.world, project["id"], tag)
    if release is None:
        return error(404, "Release does not exist")
    if level(call, project) < needed:
        return error(403, "Access Denied")
    return release


def _milestones(world: World, pid: int, titles: list[str]) -> list[dict[str, Any]] | Response:
    mine = [m for m in world.table("milestones") if m.get("project_id") == pid]
    missing = [t for t in titles if not any(m["title"] == t for m in mine)]
    if missing:
        return error(400, f"Milestone(s) not found: {', '.join(missing)}")
    return [m for m in mine if m["title"] in titles]


def _commit_of(world: World, project: dict[str, Any], ref: str) -> str | None:
    """The commit a branch (or HEAD) or a full or short SHA names."""
    pid, name = project["id"], project["default_branch"] if ref == "HEAD" else ref
    branch = next((b for b in world.table("branches") if b["project_id"] == pid and b["name"] == name), None)
    if branch is not None:
        return str(branch["head"])
    return next((sha for sha in commits_of(world, pid) if len(ref) >= 7 and sha.startswith(ref)), None)


def _datetime(value: Any) -> str | None:
    """An ISO 8601 time as GitLab stores it (UTC, milliseconds), or None when it is not one."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when.replace(tzinfo=when.tzinfo or UTC).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
