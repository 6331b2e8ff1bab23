"""Simulated GitLab API: releases and their asset links (doc/api/releases/index.md, doc/api/releases/links.md).

Behaviour as lib/api/releases.rb, lib/api/release/links.rb and app/services/releases/* give it.
State: `world.table("releases")` (the stored attributes; the JSON is built by `render`),
`world.table("release_links")` and `world.table("release_tags")`: the tags this area knows of (seeded,
or created by a release made from `ref`). The branches area's `tags` and `protected_tags` tables are
read too when they exist (a seeded tag of the same name wins; rows are stored with `tag_name`).
Seed: acme/app has v1.0.0 (two links), v1.1.0 and the upcoming v2.0.0, plus the tag v1.2.0 without a
release; acme/website has v2024.1; bob/secret has v0.1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.repository import commits_of, public_commit
from tests.gitlab_sim.http import (
    Call,
    Router,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import DEVELOPER, MAINTAINER, REPORTER, SIM_URL, World, now

Release = dict[str, Any]
LINK_TYPES = ("other", "runbook", "image", "package")
SOURCE_FORMATS = ("zip", "tar.gz", "tar.bz2", "tar")


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/releases")(list_releases)
    router.route("POST", "/projects/:id/releases")(create_release)
    router.route("GET", "/projects/:id/releases/:tag_name")(get_release)
    router.route("PUT", "/projects/:id/releases/:tag_name")(update_release)
    router.route("DELETE", "/projects/:id/releases/:tag_name")(delete_release)
    router.route("GET", "/projects/:id/releases/:tag_name/assets/links")(list_links)
    router.route("POST", "/projects/:id/releases/:tag_name/assets/links")(create_link)
    router.route("GET", "/projects/:id/releases/:tag_name/assets/links/:link_id")(get_link)
    router.route("DELETE", "/projects/:id/releases/:tag_name/assets/links/:link_id")(delete_link)


# --- tags and releases ----------------------------------------------------------------------------
def tag_sha(world: World, pid: int, name: str) -> str | None:
    """The commit a tag points at: this area's own tags first, then another area's `tags` table if any."""
    for row in world.table("release_tags"):
        if row["project_id"] == pid and row["name"] == name:
            return str(row["target"])
    for row in world.rows.get("tags", []):
        if row.get("project_id") == pid and row.get("name") == name:
            commit = row.get("commit")
            return str(commit.get("id") if isinstance(commit, dict) else commit)
    return None


def can_create_tag(world: World, pid: int, level: int, name: str) -> bool:
    """Gitlab::UserAccess#can_create_tag?: a protected tag (another area's table, if any) needs its level."""
    rules = [p for p in world.rows.get("protected_tags", []) if p.get("project_id") == pid]
    rules = [p for p in rules if fnmatchcase(name, str(p.get("name")))]
    return not rules or any(0 < int(p.get("create_access_level", MAINTAINER)) <= level for p in rules)


def find_release(world: World, pid: int, tag: str) -> Release | None:
    return next((r for r in world.table("releases") if r["project_id"] == pid and r["tag_name"] == tag), None)


def can_download_code(call: Call, project: dict[str, Any]) -> bool:
    return project["visibility"] != "private" or call.world.access_level(call.user_id, project["id"]) >= REPORTER


def render(call: Call, release: Release) -> dict[str, Any]:
    """Entities::Release: tag, commit and sources only for those who may download the code."""
    world, project = call.world, call.world.projects[release["project_id"]]
    full, tag = project["path_with_namespace"], release["tag_name"]
    web = f"{SIM_URL}/{full}/-/releases/{quote(tag, safe='')}"
    code = can_download_code(call, project)
    links = [render_link(world, link) for link in links_of(world, release)]
    sources = [
        {"format": f, "url": f"{SIM_URL}/{full}/-/archive/{tag}/{project['path']}-{tag}.{f}"} for f in SOURCE_FORMATS
    ]
    commit = commits_of(world, project["id"]).get(release["sha"])
    data: dict[str, Any] = {"name": release["name"]}
    if code:
        data["tag_name"] = tag
    data |= {
        "description": release["description"],
        "created_at": release["created_at"],
        "released_at": release["released_at"],
        "author": world.user_ref(release["author_id"]),
    }
    if code:
        data["commit"] = public_commit(commit) if commit else {"id": release["sha"], "short_id": release["sha"][:8]}
    data["upcoming_release"] = release["released_at"] > now()
    data["historical_release"] = release["released_at"] < release["created_at"]
    milestones = [m for m in world.table("milestones") if m["id"] in release["milestone_ids"]]
    if milestones:
        data["milestones"] = [milestone_with_stats(world, m) for m in milestones]
    data["commit_path"] = f"/{full}/-/commit/{release['sha']}"
    data["tag_path"] = f"/{full}/-/tags/{tag}"
    data["assets"] = {"count": len(sources) + len(links), **({"sources": sources} if code else {}), "links": links}
    if code:
        data["evidences"] = []
    data["_links"] = {"self": web, "edit_url": f"{web}/edit"}
    return data


def milestone_with_stats(world: World, milestone: dict[str, Any]) -> dict[str, Any]:
    issues = [i for i in world.table("issues") if (i.get("milestone") or {}).get("id") == milestone["id"]]
    stats = {"total": len(issues), "closed": sum(1 for i in issues if i["state"] == "closed")}
    return {**milestone, "issue_stats": stats}


def links_of(world: World, release: Release) -> list[dict[str, Any]]:
    # Releases::Link.sorted: newest first.
    rows = [link for link in world.table("release_links") if link["release_id"] == release["id"]]
    return sorted(rows, key=lambda link: (link["created_at"], link["id"]), reverse=True)


def render_link(world: World, link: dict[str, Any]) -> dict[str, Any]:
    release = next(r for r in world.table("releases") if r["id"] == link["release_id"])
    project = world.projects[release["project_id"]]
    direct = link["url"]
    if link["filepath"]:
        direct = f"{project['web_url']}/-/releases/{quote(release['tag_name'], safe='')}/downloads{link['filepath']}"
    keys = ("id", "name", "url")
    return {**{k: link[k] for k in keys}, "direct_asset_url": direct, "link_type": link["link_type"]}


def release_project(call: Call, *, write: bool) -> dict[str, Any] | Response:
    """The project of a release call: 401 for a write without a user, 404 when hidden."""
    if write and call.user_id is None:
        return error(401, "401 Unauthorized")
    project = readable_project(call)
    return not_found("Project") if project is None else project


def level(call: Call, project: dict[str, Any]) -> int:
    return call.world.access_level(call.user_id, project["id"])


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


# --- links -----------------------------------------------------------------------------------------
def link_errors(link: dict[str, Any], others: list[dict[str, Any]]) -> list[str]:
    """Releases::Link validations: url (http, https or ftp), unique name, url and filepath in the release."""
    problems = []
    url, name = str(link.get("url") or ""), str(link.get("name") or "")
    parts = urlsplit(url)
    if not url:
        problems.append("Url can't be blank")
    elif parts.scheme not in ("http", "https", "ftp"):
        problems.append("Url is blocked: Only allowed schemes are http, https, ftp")
    elif not parts.netloc:
        problems.append("Url must be a valid URL")
    if not name.strip():
        problems.append("Name can't be blank")
    path = link.get("direct_asset_path") or link.get("filepath")
    if path and not (str(path).startswith("/") and len(str(path)) <= 128 and str(path)[-1].isalnum()):
        problems.append("Filepath is invalid")  # FILEPATH_REGEX: /segments, ending alphanumeric
    if any(o["name"] == name for o in others):
        problems.append("Name has already been taken")
    if any(o["url"] == url for o in others):
        problems.append("Url has already been taken")
    if path and any((o.get("direct_asset_path") or o.get("filepath")) == path for o in others):
        problems.append("Filepath has already been taken")
    if link.get("link_type", "other") not in LINK_TYPES:
        problems.append(f"'{link['link_type']}' is not a valid link_type")
    return problems


def add_link(world: World, release: Release, link: dict[str, Any], *, at: str | None = None) -> dict[str, Any]:
    row = {
        "id": link.get("id") or world.next_id(),
        "release_id": release["id"],
        "name": link["name"],
        "url": link["url"],
        "filepath": link.get("direct_asset_path") or link.get("filepath"),
        "link_type": link.get("link_type") or "other",
        "created_at": at or now(),
    }
    world.table("release_links").append(row)
    return row


def link_release(call: Call) -> tuple[dict[str, Any], Release] | Response:
    """The release of a links call: 404 Project when hidden, "404 Not found" (find_by_tag!) when missing."""
    if call.user_id is None and call.request.method != "GET":
        return error(401, "401 Unauthorized")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    release = find_release(call.world, project["id"], call.params["tag_name"])
    if release is None:
        return not_found()
    return project, release


async def list_links(call: Call) -> Response:
    found = link_release(call)
    if isinstance(found, Response):
        return found
    return paginate(call, [render_link(call.world, link) for link in links_of(call.world, found[1])])


async def get_link(call: Call) -> Response:
    found = link_release(call)
    if isinstance(found, Response):
        return found
    link = _find_link(call, found[1])
    return link if isinstance(link, Response) else JSONResponse(render_link(call.world, link))


async def create_link(call: Call) -> Response:
    found = link_release(call)
    if isinstance(found, Response):
        return found
    for key in ("name", "url"):
        if call.arg(key) is None:
            return missing_param(key)
    link_type = call.arg("link_type", "other")
    if link_type not in LINK_TYPES:
        return invalid_value("link_type")
    project, release = found
    if level(call, project) < DEVELOPER:
        return forbidden()  # Releases::Links::CreateService: create_release
    link = {k: call.arg(k) for k in ("name", "url", "direct_asset_path", "filepath") if call.arg(k) is not None}
    existing = [{**o, "direct_asset_path": o["filepath"]} for o in links_of(call.world, release)]
    problems = link_errors({**link, "link_type": link_type}, existing)
    if problems:
        return error(400, problems)  # render_api_error!(link.errors.full_messages, 400)
    row = add_link(call.world, release, {**link, "link_type": link_type})
    return JSONResponse(render_link(call.world, row), status_code=201)


async def delete_link(call: Call) -> Response:
    found = link_release(call)
    if isinstance(found, Response):
        return found
    project, release = found
    link = _find_link(call, release)
    if isinstance(link, Response):
        return link
    if level(call, project) < DEVELOPER:
        return forbidden()  # Releases::Links::DestroyService: destroy_release
    body = render_link(call.world, link)
    call.world.table("release_links").remove(link)
    return JSONResponse(body)


def _find_link(call: Call, release: Release) -> dict[str, Any] | Response:
    raw = call.params["link_id"]
    if not raw.isdigit():
        return invalid_param("link_id")
    link = next((x for x in links_of(call.world, release) if x["id"] == int(raw)), None)
    return not_found() if link is None else link


# --- seed ------------------------------------------------------------------------------------------
def seed(world: World) -> None:
    app = [c["id"] for c in sorted(commits_of(world, 101).values(), key=lambda c: c["committed_date"])]
    tags = world.table("release_tags")
    # A tag the branches area already seeded is used as it is; the others are this area's own.
    for pid, name, sha in (
        (101, "v1.0.0", app[3]),
        (101, "v1.1.0", app[6]),
        (101, "v1.2.0", app[6]),
        (101, "v2.0.0", app[6]),
        (102, "v2024.1", next(iter(commits_of(world, 102)))),
        (104, "v0.1", next(iter(commits_of(world, 104)))),
    ):
        if tag_sha(world, pid, name) is None:
            tags.append({"project_id": pid, "name": name, "target": sha})
    first = _release(world, 501, 101, "v1.0.0", "Version 1.0.0", 1, "2024-02-16T09:00:00.000Z", [201])
    first["description"] = "## Highlights\n\n- Deploy script runs on every tag\n- Text utilities"
    runbook = {"id": 601, "name": "Runbook", "url": "https://wiki.acme.example/runbooks/app", "link_type": "runbook"}
    binary = {"id": 602, "name": "app-linux-amd64", "url": "https://downloads.acme.example/app-1.0.0"}
    binary |= {"direct_asset_path": "/bin/app-linux-amd64", "link_type": "package"}
    add_link(world, first, runbook, at="2024-02-16T09:01:00.000Z")
    add_link(world, first, binary, at="2024-02-16T09:02:00.000Z")
    second = _release(world, 502, 101, "v1.1.0", "Version 1.1.0", 2, "2024-03-02T12:00:00.000Z", [202])
    second["description"] = "Setup steps documented; greeting punctuation fixed."
    _release(world, 503, 101, "v2.0.0", "Version 2.0.0", 1, "2030-01-01T00:00:00.000Z", [])
    _release(world, 504, 102, "v2024.1", "Website 2024.1", 1, "2024-02-20T08:00:00.000Z", [])
    _release(world, 505, 104, "v0.1", "Secret v0.1", 2, "2024-02-05T08:00:00.000Z", [])


def _release(
    world: World, rid: int, pid: int, tag: str, name: str, author: int, released: str, milestones: list[int]
) -> Release:
    row = {
        "id": rid,
        "project_id": pid,
        "tag_name": tag,
        "sha": tag_sha(world, pid, tag),
        "name": name,
        "description": None,
        "author_id": author,
        "created_at": min(released, "2024-03-10T00:00:00.000Z"),
        "released_at": released,
        "milestone_ids": milestones,
    }
    world.table("releases").append(row)
    return row
