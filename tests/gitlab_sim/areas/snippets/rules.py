"""Who may see or administer a snippet, finding one, and a snippet (and its raw content) as GitLab shows it."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    not_found,
)
from tests.gitlab_sim.world import GUEST, MAINTAINER, SIM_URL, World

Snippet = dict[str, Any]


# --- rules ---------------------------------------------------------------------------------------
def can_see(world: World, user_id: int | None, snippet: Snippet) -> bool:
    """SnippetsFinder: private snippets for their author (and, in a project, its members); internal for
    any signed-in user; public for all. A project snippet also needs the project and its snippets feature."""
    if snippet["project_id"] is not None:
        project = world.projects[snippet["project_id"]]
        if not world.can_read(user_id, project) or not project.get("snippets_enabled", True):
            return False
        if snippet["visibility"] == "private":
            return world.access_level(user_id, project["id"]) >= GUEST or snippet["author"]["id"] == user_id
    if snippet["visibility"] == "private":
        return snippet["author"]["id"] == user_id
    return snippet["visibility"] == "public" or user_id is not None


def can_admin(world: World, user_id: int | None, snippet: Snippet) -> bool:
    """update_snippet/admin_snippet: the author, or a maintainer of the snippet's project."""
    if snippet["author"]["id"] == user_id:
        return True
    pid = snippet["project_id"]
    return pid is not None and world.access_level(user_id, pid) >= MAINTAINER


def render(snippet: Snippet) -> dict[str, Any]:
    """Entities::ProjectSnippet / PersonalSnippet."""
    data = {k: v for k, v in snippet.items() if not k.startswith("_")}
    web = web_url(snippet)
    data |= {"web_url": web, "raw_url": f"{web}/raw"}
    data["file_name"] = snippet["_files"][0]["path"] if snippet["_files"] else None
    data["files"] = [{"path": f["path"], "raw_url": f"{web}/raw/main/{f['path']}"} for f in snippet["_files"]]
    data["ssh_url_to_repo"] = f"git@gitlab.sim:snippets/{snippet['id']}.git"
    data["http_url_to_repo"] = f"{SIM_URL}/snippets/{snippet['id']}.git"
    return data


def web_url(snippet: Snippet) -> str:
    if snippet["project_id"] is None:
        return f"{SIM_URL}/-/snippets/{snippet['id']}"
    return f"{SIM_URL}/{snippet['_project_path']}/-/snippets/{snippet['id']}"


def unauthorized() -> JSONResponse:
    return error(401, "401 Unauthorized")


def snippets_project(call: Call) -> dict[str, Any] | Response:
    """The project named in the path: 404 when hidden, 403 when its snippets are turned off."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not project.get("snippets_enabled", True):
        return forbidden()  # check_snippets_enabled
    return project


def visible(call: Call, project_id: int | None = None, *, any_project: bool = False) -> list[Snippet]:
    rows = [s for s in call.world.table("snippets") if can_see(call.world, call.user_id, s)]
    if not any_project:
        rows = [s for s in rows if s["project_id"] == project_id]
    return sorted(rows, key=lambda s: s["id"], reverse=True)  # SnippetsFinder: newest first


def find(call: Call, rows: list[Snippet]) -> Snippet | None:
    raw = call.params["snippet_id"]
    return next((s for s in rows if str(s["id"]) == raw), None)


def raw(snippet: Snippet | None) -> Response:
    """The first file's content as text/plain (SnippetsHelpers#content_for)."""
    if snippet is None:
        return not_found("Snippet")
    content = snippet["_files"][0]["content"] if snippet["_files"] else ""
    return PlainTextResponse(content, headers={"content-disposition": "attachment"})


def raw_file(call: Call, snippet: Snippet | None) -> Response:
    if snippet is None:
        return not_found("Snippet")
    if call.params["ref"] not in ("main", "HEAD"):
        return not_found("Reference")
    found = next((f for f in snippet["_files"] if f["path"] == call.params["file_path"]), None)
    return not_found("File") if found is None else PlainTextResponse(found["content"])
