"""Release links: list, get, create and delete (doc/api/releases/links.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.releases.lookups import Release, find_release, level, links_of, render_link
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import DEVELOPER, World, now

LINK_TYPES = ("other", "runbook", "image", "package")


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
