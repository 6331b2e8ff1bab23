"""Wiki pages of projects and groups (doc/api/wikis.md, doc/api/group_wikis.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE
from mcp_bridge.shaping import pick, text_window
from mcp_bridge.tools.parents import Parent, Twin, twins

PAGE_FIELDS = ("slug", "title", "format")
MAX_PAGE_CHARS = 20_000  # per window of a page, about 5k tokens

Slug = Annotated[str, Field(description="Page slug from list_wiki_pages, e.g. 'docs/setup'.", min_length=1)]
Title = Annotated[str, Field(description="Page title; 'dir/Title' puts it in a directory.", min_length=1)]
Content = Annotated[str, Field(description="Page text in the chosen format.", min_length=1)]
Format = Literal["markdown", "rdoc", "asciidoc", "org"]


# Each implementation below is two tools, one on projects and one on groups (tools/parents.py).
@twins(
    READ,
    "wiki",
    routes=("GET /{parents}/:id/wikis",),
    project=Twin(
        "list_wiki_pages",
        "List every page of a project's wiki: slug, title and format. Read one with get_wiki_page.",
    ),
    group=Twin(
        "list_group_wiki_pages",
        "List every page of a group's wiki: slug, title and format. Read one with get_group_wiki_page.",
    ),
)
async def list_pages(parent: Parent) -> dict[str, Any]:
    # GitLab returns every page at once (no pagination); without content they are small.
    pages = await gitlab().get(f"{parent.path}/wikis", what=f"Wiki of {parent.name}", params={"with_content": False})
    return {"items": [pick(page, PAGE_FIELDS) for page in pages], "total": len(pages)}


@twins(
    READ,
    "wiki",
    routes=("GET /{parents}/:id/wikis/:slug",),
    project=Twin(
        "get_wiki_page",
        "Read a project wiki page: its text as a window of lines with total_lines and a hint; pass "
        "start_line to read on.",
    ),
    group=Twin(
        "get_group_wiki_page",
        "Read a group wiki page: its text as a window of lines with total_lines and a hint; pass "
        "start_line to read on.",
    ),
)
@shared_parameters(text_window, after="max_chars")
async def get_page(parent: Parent, slug: Slug, **reading: Any) -> dict[str, Any]:
    page = await gitlab().get(f"{parent.path}/wikis/{path_id(slug)}", what=f"Wiki page {slug} in {parent.name}")
    text = page.get("content") or ""
    window = text_window(text, MAX_PAGE_CHARS, **reading)
    return {**pick(page, PAGE_FIELDS), **window}


@twins(
    WRITE,
    "wiki",
    routes=("POST /{parents}/:id/wikis",),
    project=Twin(
        "create_wiki_page",
        "Create a page in a project's wiki (Developer role). Returns its slug, title and format.",
    ),
    group=Twin(
        "create_group_wiki_page",
        "Create a page in a group's wiki (Developer role). Returns its slug, title and format.",
    ),
)
async def create_page(parent: Parent, title: Title, content: Content, format: Format = "markdown") -> dict[str, Any]:
    body = {"title": title, "content": content, "format": format}
    page = await gitlab().post(f"{parent.path}/wikis", what=f"Wiki page {title} in {parent.name}", json=body)
    return pick(page, PAGE_FIELDS)  # not the content: the caller just sent it


@twins(
    WRITE,
    "wiki",
    routes=("PUT /{parents}/:id/wikis/:slug",),
    project=Twin(
        "update_wiki_page",
        "Change a project wiki page's text, title or format; give at least one. Returns the page's "
        "(possibly new) slug.",
    ),
    group=Twin(
        "update_group_wiki_page",
        "Change a group wiki page's text, title or format; give at least one. Returns the page's (possibly new) slug.",
    ),
)
async def update_page(
    parent: Parent,
    slug: Slug,
    title: Annotated[str | None, Field(description="New title (renames the page and its slug).")] = None,
    content: Annotated[str | None, Field(description="New full text of the page.")] = None,
    format: Annotated[Format | None, Field(description="New format: markdown, rdoc, asciidoc or org.")] = None,
) -> dict[str, Any]:
    body = {"title": title, "content": content, "format": format}
    path, what = f"{parent.path}/wikis/{path_id(slug)}", f"Wiki page {slug} in {parent.name}"
    return pick(await gitlab().put(path, what=what, json=body), PAGE_FIELDS)


@twins(
    DESTRUCTIVE,
    "wiki",
    routes=("DELETE /{parents}/:id/wikis/:slug",),
    project=Twin("delete_wiki_page", "Delete a page from a project's wiki (Developer role)."),
    group=Twin("delete_group_wiki_page", "Delete a page from a group's wiki (Developer role)."),
)
async def delete_page(parent: Parent, slug: Slug) -> dict[str, Any]:
    await gitlab().delete(f"{parent.path}/wikis/{path_id(slug)}", what=f"Wiki page {slug} in {parent.name}")
    return {"deleted": True, "slug": slug}
