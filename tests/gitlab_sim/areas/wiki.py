"""Simulated GitLab API: project and group wikis (doc/api/wikis.md, doc/api/group_wikis.md).

Rows live in world.table("wiki_pages"): {"container": "project"/"group", "container_id", "slug",
"title", "format", "content"}. Reading needs read access and the wiki turned on (else 403);
writing and deleting need the Developer role (create_wiki/admin_wiki come with it). A slug is the
title with spaces as hyphens ("Getting Started" → "Getting-Started"); "docs/deploy" is a page
"deploy" in the directory "docs".
Seed: acme/app has home, Getting-Started, docs/deploy and a 1,500-line Runbook; acme/website has
home; bob/secret has plans; alice/notes has its wiki turned off; the acme group has home and Handbook.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.variables import container
from tests.gitlab_sim.http import Call, Router, error, forbidden, invalid_value, missing_param, not_found, param_error
from tests.gitlab_sim.world import DEVELOPER, World

Page = dict[str, Any]
FORMATS = ("markdown", "rdoc", "asciidoc", "org")
DUPLICATE = "Duplicate page: A page with that title already exists"


def register(router: Router) -> None:
    for kind in ("projects", "groups"):
        router.route("GET", f"/{kind}/:id/wikis")(list_pages)
        router.route("POST", f"/{kind}/:id/wikis")(create_page)
        router.route("GET", f"/{kind}/:id/wikis/:slug")(get_page)
        router.route("PUT", f"/{kind}/:id/wikis/:slug")(update_page)
        router.route("DELETE", f"/{kind}/:id/wikis/:slug")(delete_page)


def slug_of(title: str) -> str:
    # Gollum's cname: each path part squished, spaces (and < >) become hyphens.
    parts = [" ".join(part.split()) for part in title.strip().split("/")]
    return "/".join(part.replace(" ", "-").replace("<", "-").replace(">", "-") for part in parts if part)


def title_of(slug: str) -> str:
    return slug.rsplit("/", 1)[-1].replace("-", " ")


def basic(page: Page) -> Page:
    """Entities::WikiPageBasic."""
    return {"format": page["format"], "slug": page["slug"], "title": page["title"]}


def full(page: Page) -> Page:
    """Entities::WikiPage."""
    return {**basic(page), "content": page["content"], "encoding": "UTF-8"}


def wiki(call: Call, *, write: bool = False) -> tuple[str, dict[str, Any]] | Response:
    """The wiki's container when the caller may read (or write) it; else GitLab's 404 or 403."""
    kind, owner, level = container(call)
    if owner is None:
        return not_found(kind.capitalize())
    if not owner.get("wiki_enabled", True) or (write and level < DEVELOPER):
        return forbidden()
    return kind, owner


def pages_of(call: Call, kind: str, owner: dict[str, Any]) -> list[Page]:
    rows = call.world.table("wiki_pages")
    return [p for p in rows if p["container"] == kind and p["container_id"] == owner["id"]]


def find(call: Call, kind: str, owner: dict[str, Any]) -> Page | Response:
    page = next((p for p in pages_of(call, kind, owner) if p["slug"] == call.params["slug"]), None)
    return page if page is not None else not_found("Wiki Page")


async def list_pages(call: Call) -> Response:
    allowed = wiki(call)
    if isinstance(allowed, Response):
        return allowed
    present = full if call.flag("with_content") else basic
    pages = sorted(pages_of(call, *allowed), key=lambda p: p["slug"].lower())
    return JSONResponse([present(p) for p in pages])


async def get_page(call: Call) -> Response:
    allowed = wiki(call)
    if isinstance(allowed, Response):
        return allowed
    page = find(call, *allowed)
    return page if isinstance(page, Response) else JSONResponse(full(page))


async def create_page(call: Call) -> Response:
    allowed = wiki(call, write=True)
    if isinstance(allowed, Response):
        return allowed
    for name in ("title", "content"):
        if call.arg(name) is None:
            return missing_param(name)
    fmt = call.arg("format", "markdown")
    if fmt not in FORMATS:
        return invalid_value("format")
    kind, owner = allowed
    slug = slug_of(str(call.arg("title")))
    if not slug or not str(call.arg("content")).strip():
        return error(400, {"title" if not slug else "content": ["can't be blank"]})
    if any(p["slug"] == slug for p in pages_of(call, kind, owner)):
        return error(400, {"base": [DUPLICATE]})
    page = {"container": kind, "container_id": owner["id"], "slug": slug, "title": title_of(slug), "format": fmt}
    page["content"] = str(call.arg("content"))
    call.world.table("wiki_pages").append(page)
    return JSONResponse(full(page), status_code=201)


async def update_page(call: Call) -> Response:
    allowed = wiki(call, write=True)
    if isinstance(allowed, Response):
        return allowed
    if all(call.arg(name) is None for name in ("content", "title", "format")):
        return param_error("content, title, format are missing, at least one parameter must be provided")
    fmt = call.arg("format")
    if fmt is not None and fmt not in FORMATS:
        return invalid_value("format")
    page = find(call, *allowed)
    if isinstance(page, Response):
        return page
    if (title := call.arg("title")) is not None:
        # WikiPage#process_title: a bare title keeps the page in its directory.
        directory = page["slug"].rsplit("/", 1)[0] if "/" in page["slug"] else ""
        slug = slug_of(title if "/" in title or not directory else f"{directory}/{title}")
        if slug != page["slug"] and any(p["slug"] == slug for p in pages_of(call, *allowed)):
            return error(400, {"base": [DUPLICATE]})
        page |= {"slug": slug, "title": title_of(slug)}
    if (content := call.arg("content")) is not None:
        page["content"] = str(content)
    if fmt is not None:
        page["format"] = fmt
    return JSONResponse(full(page))


async def delete_page(call: Call) -> Response:
    allowed = wiki(call, write=True)
    if isinstance(allowed, Response):
        return allowed
    page = find(call, *allowed)
    if isinstance(page, Response):
        return page
    call.world.table("wiki_pages").remove(page)
    return Response(status_code=204)


def seed(world: World) -> None:
    world.projects[103]["wiki_enabled"] = False
    runbook = "\n".join(f"{n}. Check service number {n} and restart it when needed." for n in range(1, 1501))
    rows = world.table("wiki_pages")
    for kind, owner_id, slug, content in (
        ("project", 101, "home", "# Acme app\n\nSee [Getting Started](Getting-Started) and [Deploy](docs/deploy).\n"),
        ("project", 101, "Getting-Started", "Clone the repo.\nRun `make dev`.\nOpen http://localhost:8000.\n"),
        ("project", 101, "docs/deploy", "Deploys go through the production pipeline.\n"),
        ("project", 101, "Runbook", runbook),
        ("project", 102, "home", "Welcome to the Acme website wiki.\n"),
        ("project", 104, "plans", "Bob's secret plans.\n"),
        ("group", 10, "home", "Acme group wiki.\n"),
        ("group", 10, "Handbook", "How we work at Acme.\n"),
    ):
        rows.append(
            {"container": kind, "container_id": owner_id, "slug": slug, "title": title_of(slug), "format": "markdown"}
            | {"content": content}
        )
