"""Wiki pages of projects and groups (doc/api/wikis.md, doc/api/group_wikis.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import line_window, pick
from mcp_bridge.tools.parents import Parent
from mcp_bridge.tools.variables import GroupRef

PAGE_FIELDS = ("slug", "title", "format")
MAX_PAGE_CHARS = 20_000  # per window of a page, about 5k tokens

Slug = Annotated[str, Field(description="Page slug from list_wiki_pages, e.g. 'docs/setup'.", min_length=1)]
Title = Annotated[str, Field(description="Page title; 'dir/Title' puts it in a directory.", min_length=1)]
Content = Annotated[str, Field(description="Page text in the chosen format.", min_length=1)]
Format = Literal["markdown", "rdoc", "asciidoc", "org"]
StartLine = Annotated[int | None, Field(description="First line to show, from 1.", ge=1)]
LineCount = Annotated[int, Field(description="How many lines to show (1-2000).", ge=1, le=2000)]


# One implementation for project and group wikis: `base` is the wiki's API path, `name` its parent's.
def _project(project: str) -> tuple[str, str]:
    parent = Parent.project(project)
    return f"{parent.path}/wikis", parent.name


def _group(group: str) -> tuple[str, str]:
    parent = Parent.group(group)
    return f"{parent.path}/wikis", parent.name


async def _list(base: str, name: str) -> dict[str, Any]:
    # GitLab returns every page at once (no pagination); without content they are small.
    pages = await gitlab().get(base, what=f"Wiki of {name}", params={"with_content": False})
    return {"items": [pick(page, PAGE_FIELDS) for page in pages], "total": len(pages)}


async def _get(base: str, name: str, slug: str, start_line: int | None, line_count: int) -> dict[str, Any]:
    page = await gitlab().get(f"{base}/{path_id(slug)}", what=f"Wiki page {slug} in {name}")
    text = page.get("content") or ""
    window = line_window(text, start=start_line, count=line_count, tail=False, max_chars=MAX_PAGE_CHARS)
    return {**pick(page, PAGE_FIELDS), **window}


async def _create(base: str, name: str, title: str, content: str, format: str) -> dict[str, Any]:
    body = {"title": title, "content": content, "format": format}
    page = await gitlab().post(base, what=f"Wiki page {title} in {name}", json=body)
    return pick(page, PAGE_FIELDS)  # not the content: the caller just sent it


async def _update(base: str, name: str, slug: str, body: dict[str, Any]) -> dict[str, Any]:
    page = await gitlab().put(f"{base}/{path_id(slug)}", what=f"Wiki page {slug} in {name}", json=body)
    return pick(page, PAGE_FIELDS)


async def _delete(base: str, name: str, slug: str) -> dict[str, Any]:
    await gitlab().delete(f"{base}/{path_id(slug)}", what=f"Wiki page {slug} in {name}")
    return {"deleted": True, "slug": slug}


# --- project wikis -----------------------------------------------------------------------------
@tool(READ, "wiki", routes=("GET /projects/:id/wikis",))
async def list_wiki_pages(project: ProjectRef) -> dict[str, Any]:
    """List every page of a project's wiki: slug, title and format. Read one with get_wiki_page."""
    return await _list(*_project(project))


@tool(READ, "wiki", routes=("GET /projects/:id/wikis/:slug",))
async def get_wiki_page(
    project: ProjectRef, slug: Slug, start_line: StartLine = None, line_count: LineCount = 400
) -> dict[str, Any]:
    """Read a project wiki page: its text as a window of lines with total_lines and a hint; pass
    start_line to read on."""
    return await _get(*_project(project), slug, start_line, line_count)


@tool(WRITE, "wiki", routes=("POST /projects/:id/wikis",))
async def create_wiki_page(
    project: ProjectRef, title: Title, content: Content, format: Format = "markdown"
) -> dict[str, Any]:
    """Create a page in a project's wiki (Developer role). Returns its slug, title and format."""
    return await _create(*_project(project), title, content, format)


@tool(WRITE, "wiki", routes=("PUT /projects/:id/wikis/:slug",))
async def update_wiki_page(
    project: ProjectRef,
    slug: Slug,
    title: Annotated[str | None, Field(description="New title (renames the page and its slug).")] = None,
    content: Annotated[str | None, Field(description="New full text of the page.")] = None,
    format: Annotated[Format | None, Field(description="New format: markdown, rdoc, asciidoc or org.")] = None,
) -> dict[str, Any]:
    """Change a project wiki page's text, title or format; give at least one. Returns the page's
    (possibly new) slug."""
    return await _update(*_project(project), slug, {"title": title, "content": content, "format": format})


@tool(DESTRUCTIVE, "wiki", routes=("DELETE /projects/:id/wikis/:slug",))
async def delete_wiki_page(project: ProjectRef, slug: Slug) -> dict[str, Any]:
    """Delete a page from a project's wiki (Developer role)."""
    return await _delete(*_project(project), slug)


# --- group wikis -------------------------------------------------------------------------------
@tool(READ, "wiki", routes=("GET /groups/:id/wikis",))
async def list_group_wiki_pages(group: GroupRef) -> dict[str, Any]:
    """List every page of a group's wiki: slug, title and format. Read one with get_group_wiki_page."""
    return await _list(*_group(group))


@tool(READ, "wiki", routes=("GET /groups/:id/wikis/:slug",))
async def get_group_wiki_page(
    group: GroupRef, slug: Slug, start_line: StartLine = None, line_count: LineCount = 400
) -> dict[str, Any]:
    """Read a group wiki page: its text as a window of lines with total_lines and a hint; pass
    start_line to read on."""
    return await _get(*_group(group), slug, start_line, line_count)


@tool(WRITE, "wiki", routes=("POST /groups/:id/wikis",))
async def create_group_wiki_page(
    group: GroupRef, title: Title, content: Content, format: Format = "markdown"
) -> dict[str, Any]:
    """Create a page in a group's wiki (Developer role). Returns its slug, title and format."""
    return await _create(*_group(group), title, content, format)


@tool(WRITE, "wiki", routes=("PUT /groups/:id/wikis/:slug",))
async def update_group_wiki_page(
    group: GroupRef,
    slug: Slug,
    title: Annotated[str | None, Field(description="New title (renames the page and its slug).")] = None,
    content: Annotated[str | None, Field(description="New full text of the page.")] = None,
    format: Annotated[Format | None, Field(description="New format: markdown, rdoc, asciidoc or org.")] = None,
) -> dict[str, Any]:
    """Change a group wiki page's text, title or format; give at least one. Returns the page's
    (possibly new) slug."""
    return await _update(*_group(group), slug, {"title": title, "content": content, "format": format})


@tool(DESTRUCTIVE, "wiki", routes=("DELETE /groups/:id/wikis/:slug",))
async def delete_group_wiki_page(group: GroupRef, slug: Slug) -> dict[str, Any]:
    """Delete a page from a group's wiki (Developer role)."""
    return await _delete(*_group(group), slug)
