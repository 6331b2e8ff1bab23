"""Snippets: project snippets and your personal ones (doc/api/project_snippets.md, doc/api/snippets.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick, slim_schema, text_window

LIST_FIELDS = ("id", "title", "visibility", "author", "file_name", "project_id", "updated_at", "web_url")
DETAIL_FIELDS = (*LIST_FIELDS, "description", "created_at")
MAX_CONTENT_CHARS = 40_000  # per window of a snippet file, about 10k tokens

SnippetId = Annotated[int, Field(description="Snippet id (the number in .../-/snippets/<id>).", ge=1)]
Title = Annotated[str, Field(description="Snippet title.", min_length=1, max_length=255)]
Visibility = Literal["private", "internal", "public"]
FileName = Annotated[str | None, Field(description="File name, for a one-file snippet with content.")]
Content = Annotated[str | None, Field(description="The text of a one-file snippet.")]
Description = Annotated[str | None, Field(description="Snippet description.")]
FilePath = Annotated[str | None, Field(description="Which file of the snippet to read; the first if omitted.")]


class SnippetFile(BaseModel):
    model_config = ConfigDict(json_schema_extra=slim_schema)

    file_path: Annotated[str, Field(description="File name or path in the snippet.", min_length=1)]
    content: Annotated[str, Field(description="The file's text.", min_length=1)]


class SnippetFileAction(BaseModel):
    model_config = ConfigDict(json_schema_extra=slim_schema)

    action: Literal["create", "update", "delete", "move"]
    file_path: Annotated[str, Field(description="The file (its new path for move).", min_length=1)]
    content: Annotated[str | None, Field(description="New text (create, update; optional for move).")] = None
    previous_path: Annotated[str | None, Field(description="Old path, for move.")] = None


def _files(files: list[SnippetFile] | list[SnippetFileAction] | None) -> list[dict[str, Any]] | None:
    return [f.model_dump(exclude_none=True) for f in files] if files else None


def _snippet(data: dict[str, Any]) -> dict[str, Any]:
    """A snippet's details; its files shrink to their paths."""
    return {**pick(data, DETAIL_FIELDS), "files": [f.get("path") for f in data.get("files") or []]}


async def _read(base: str, what: str, file_path: str | None, **reading: Any) -> dict[str, Any]:
    """A snippet with a window of one of its files: /raw gives the first file, files/HEAD/<path>/raw any."""
    gl = gitlab()
    data = await gl.get(base, what=what)
    raw_path = f"{base}/files/HEAD/{path_id(file_path)}/raw" if file_path else f"{base}/raw"
    text = await gl.text(raw_path, what=f"{file_path or 'Content'} of {what}")
    window = text_window(text, MAX_CONTENT_CHARS, **reading)
    return {**_snippet(data), "file": file_path or data.get("file_name"), **window}


def _body(
    title: str | None,
    visibility: str | None,
    description: str | None,
    file_name: str | None,
    content: str | None,
    files: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    body = {"title": title, "visibility": visibility, "description": description}
    return body | {"file_name": file_name, "content": content, "files": files}


def new_snippet(
    title: Title,
    visibility: Visibility = "private",
    file_name: FileName = None,
    content: Content = None,
    files: Annotated[
        list[SnippetFile] | None, Field(description="Several files, instead of file_name+content.")
    ] = None,
    description: Description = None,
) -> dict[str, Any]:
    """The parameters of both tools that create a snippet, and the request body made of them."""
    return _body(title, visibility, description, file_name, content, _files(files))


@tool(READ, "snippets", routes=("GET /projects/:id/snippets",))
async def list_project_snippets(project: ProjectRef, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """List the snippets of a project that you can see, newest first: id, title, visibility, author, file name."""
    return await listed(f"/projects/{path_id(project)}/snippets", f"Snippets of {project}", page, per_page, LIST_FIELDS)


@tool(
    READ,
    "snippets",
    routes=(
        "GET /projects/:id/snippets/:snippet_id",
        "GET /projects/:id/snippets/:snippet_id/raw",
        "GET /projects/:id/snippets/:snippet_id/files/:ref/:file_path/raw",
    ),
)
@shared_parameters(text_window, after="max_chars")
async def get_project_snippet(
    project: ProjectRef,
    snippet_id: SnippetId,
    file_path: FilePath = None,
    **reading: Any,
) -> dict[str, Any]:
    """Read a project snippet: title, description, its file names and the content of one file as a window of
    lines (total_lines and a hint tell how to read on with start_line)."""
    base = f"/projects/{path_id(project)}/snippets/{snippet_id}"
    return await _read(base, f"Snippet {snippet_id} in {project}", file_path, **reading)


@tool(WRITE, "snippets", routes=("POST /projects/:id/snippets",))
@shared_parameters(new_snippet)
async def create_project_snippet(project: ProjectRef, **snippet: Any) -> dict[str, Any]:
    """Create a snippet in a project (Reporter role): give file_name and content, or files for several.
    Returns the snippet with its id and URL."""
    body = new_snippet(**snippet)
    data = await gitlab().post(f"/projects/{path_id(project)}/snippets", what=f"Project {project}", json=body)
    return _snippet(data)


@tool(WRITE, "snippets", routes=("PUT /projects/:id/snippets/:snippet_id",))
async def update_project_snippet(
    project: ProjectRef,
    snippet_id: SnippetId,
    title: Annotated[str | None, Field(description="New title.", min_length=1)] = None,
    visibility: Visibility | None = None,
    description: Description = None,
    file_name: Annotated[str | None, Field(description="New file name (one-file snippets).")] = None,
    content: Annotated[str | None, Field(description="New text (one-file snippets).")] = None,
    files: Annotated[
        list[SnippetFileAction] | None, Field(description="File changes; required for multi-file snippets.")
    ] = None,
) -> dict[str, Any]:
    """Change a project snippet you wrote (or any, as Maintainer): title, visibility, description or files.
    Omitted fields stay as they are."""
    body = _body(title, visibility, description, file_name, content, _files(files))
    data = await gitlab().put(
        f"/projects/{path_id(project)}/snippets/{snippet_id}", what=f"Snippet {snippet_id} in {project}", json=body
    )
    return _snippet(data)


@tool(DESTRUCTIVE, "snippets", routes=("DELETE /projects/:id/snippets/:snippet_id",))
async def delete_project_snippet(project: ProjectRef, snippet_id: SnippetId) -> dict[str, Any]:
    """Delete a project snippet you wrote (or any, as Maintainer), with all its files."""
    await gitlab().delete(
        f"/projects/{path_id(project)}/snippets/{snippet_id}", what=f"Snippet {snippet_id} in {project}"
    )
    return {"deleted": True, "snippet_id": snippet_id}


@tool(READ, "snippets", routes=("GET /snippets",))
async def list_my_snippets(page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """List the snippets you wrote, personal and in projects, newest first (project_id is null for personal)."""
    return await listed("/snippets", "Your snippets", page, per_page, LIST_FIELDS)


@tool(
    READ,
    "snippets",
    routes=(
        "GET /snippets/:id",
        "GET /snippets/:id/raw",
        "GET /snippets/:id/files/:ref/:file_path/raw",
    ),
)
@shared_parameters(text_window, after="max_chars")
async def get_snippet(snippet_id: SnippetId, file_path: FilePath = None, **reading: Any) -> dict[str, Any]:
    """Read a snippet by id (personal, or any you can see): title, file names and one file's content as a
    window of lines, with a hint to read on."""
    return await _read(f"/snippets/{snippet_id}", f"Snippet {snippet_id}", file_path, **reading)


@tool(WRITE, "snippets", routes=("POST /snippets",))
@shared_parameters(new_snippet)
async def create_snippet(**snippet: Any) -> dict[str, Any]:
    """Create a personal snippet (not in a project): give file_name and content, or files for several.
    Returns the snippet with its id and URL."""
    body = new_snippet(**snippet)
    data = await gitlab().post("/snippets", what="Snippet", json=body)
    return _snippet(data)
