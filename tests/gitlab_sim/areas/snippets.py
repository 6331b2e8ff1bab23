"""Simulated GitLab API: project and personal snippets (doc/api/project_snippets.md, doc/api/snippets.md).

Behaviour as lib/api/project_snippets.rb, lib/api/snippets.rb and API::Helpers::SnippetsHelpers give it.
State: `world.table("snippets")`, one row per snippet (`project_id` None for a personal one) with its
files in `_files` ([{"path", "content"}]); `snippets_enabled` on a project turns the feature off.
Seed: acme/app 301-303 (303 has two files; 302 is 600 lines long), acme/website 304 (public) and 305
(private), bob/secret 306; personal 311-312 (alice), 313-314 (bob), 315 (charlie, internal). Snippets
are turned off in alice/notes.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
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
    param_error,
)
from tests.gitlab_sim.world import GUEST, MAINTAINER, REPORTER, SIM_URL, World, now

Snippet = dict[str, Any]
VISIBILITIES = ("private", "internal", "public")
ACTIONS = ("create", "update", "delete", "move")
UPDATABLE = ("content", "description", "files", "file_name", "title", "visibility")


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/snippets")(list_project_snippets)
    router.route("POST", "/projects/:id/snippets")(create_project_snippet)
    router.route("GET", "/projects/:id/snippets/:snippet_id")(get_project_snippet)
    router.route("PUT", "/projects/:id/snippets/:snippet_id")(update_project_snippet)
    router.route("DELETE", "/projects/:id/snippets/:snippet_id")(delete_project_snippet)
    router.route("GET", "/projects/:id/snippets/:snippet_id/raw")(project_snippet_raw)
    router.route("GET", "/projects/:id/snippets/:snippet_id/files/:ref/:file_path/raw")(project_snippet_file)
    router.route("GET", "/snippets")(list_my_snippets)
    router.route("POST", "/snippets")(create_snippet)
    router.route("GET", "/snippets/:snippet_id")(get_snippet)
    router.route("GET", "/snippets/:snippet_id/raw")(snippet_raw)
    router.route("GET", "/snippets/:snippet_id/files/:ref/:file_path/raw")(snippet_file)


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


# --- parameters ----------------------------------------------------------------------------------
def file_params(call: Call) -> list[dict[str, str]] | Response:
    """create_file_params: either `files` or `content` (with `file_name`), exactly one of them."""
    files, content = call.arg("files"), call.arg("content")
    if files is not None and content is not None:
        return param_error("files, content are mutually exclusive")
    if files is None and content is None:
        return param_error("files, content are missing, exactly one parameter must be provided")
    if content is not None:
        if call.arg("file_name") is None:
            return missing_param("file_name")
        if not str(content).strip():
            return param_error("content is empty")
        return [{"path": str(call.arg("file_name")), "content": str(content)}]
    if not isinstance(files, list):
        return invalid_param("files")
    out = []
    for n, item in enumerate(files):
        for key in ("file_path", "content"):
            if not isinstance(item, dict) or key not in item:
                return missing_param(f"files[{n}][{key}]")
            if not str(item[key]).strip():
                return param_error(f"files[{n}][{key}] is empty")
        out.append({"path": str(item["file_path"]), "content": str(item["content"])})
    return out


def visibility_param(call: Call, default: str | None) -> str | Response:
    value = call.arg("visibility", default)
    if value is None:
        return missing_param("visibility")
    return value if value in VISIBILITIES else invalid_value("visibility")


def apply_updates(call: Call, snippet: Snippet) -> Response | None:
    """PUT: the Grape checks, then the file actions (Snippets::UpdateService); None when applied."""
    if not any(k in call.body or k in call.query for k in UPDATABLE):
        return param_error(f"{', '.join(UPDATABLE)} are missing, at least one parameter must be provided")
    files = call.arg("files")
    for other in ("content", "file_name"):
        if files is not None and call.arg(other) is not None:
            return param_error(f"files, {other} are mutually exclusive")
    if call.arg("visibility") is not None and call.arg("visibility") not in VISIBILITIES:
        return invalid_value("visibility")
    for key in ("title", "content"):
        if call.arg(key) is not None and not str(call.arg(key)).strip():
            return param_error(f"{key} is empty")
    if not can_admin(call.world, call.user_id, snippet):
        return forbidden()
    if (call.arg("content") is not None or call.arg("file_name") is not None) and len(snippet["_files"]) > 1:
        message = "To update Snippets with multiple files, you must use the `files` parameter"
        return error(400, {"error": message})
    new_files = [dict(f) for f in snippet["_files"]]
    if files is not None:
        problem = file_actions(new_files, files)
        if problem:
            return problem
    elif snippet["_files"]:
        first = new_files[0]
        first["path"] = str(call.arg("file_name", first["path"]))
        first["content"] = str(call.arg("content", first["content"]))
    snippet["_files"] = new_files
    for key in ("title", "description", "visibility"):
        if call.arg(key) is not None:
            snippet[key] = call.arg(key)
    snippet["updated_at"] = now()
    return None


def file_actions(files: list[dict[str, str]], actions: Any) -> Response | None:
    if not isinstance(actions, list):
        return invalid_param("files")
    for n, action in enumerate(actions):
        kind = action.get("action") if isinstance(action, dict) else None
        if kind is None:
            return missing_param(f"files[{n}][action]")
        if kind not in ACTIONS:
            return invalid_value(f"files[{n}][action]")
        path, previous = action.get("file_path"), action.get("previous_path") or action.get("file_path")
        current = next((f for f in files if f["path"] == previous), None)
        if kind == "create":
            if not path or action.get("content") is None:
                return _update_error("Snippet actions have invalid data")
            files.append({"path": path, "content": action["content"]})
        elif current is None:
            return _update_error("A file with this name doesn't exist")
        elif kind == "delete":
            files.remove(current)
        else:
            current["path"] = path or current["path"]
            current["content"] = action.get("content", current["content"])
    return None


def _update_error(message: str) -> Response:
    return error(400, {"error": f"Error updating the snippet - {message}"})


# --- project snippets ----------------------------------------------------------------------------
async def list_project_snippets(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = snippets_project(call)
    if isinstance(project, Response):
        return project
    return paginate(call, [render(s) for s in visible(call, project["id"])])


async def get_project_snippet(call: Call) -> Response:
    project = snippets_project(call)
    if isinstance(project, Response):
        return project
    if not call.params["snippet_id"].isdigit():
        return invalid_param("snippet_id")
    snippet = find(call, visible(call, project["id"]))
    # `.find` raises RecordNotFound before not_found!('Snippet') is reached: "404 Not found".
    return not_found() if snippet is None else JSONResponse(render(snippet))


async def create_project_snippet(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = snippets_project(call)
    if isinstance(project, Response):
        return project
    title = call.arg("title")
    if title is None:
        return missing_param("title")
    if not str(title).strip():
        return param_error("title is empty")
    visibility = visibility_param(call, None)  # required for project snippets
    if isinstance(visibility, Response):
        return visibility
    files = file_params(call)
    if isinstance(files, Response):
        return files
    if call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()  # create_snippet: Reporter and up
    snippet = add_snippet(call.world, call.user_id, project, str(title), visibility, files, call.arg("description"))
    return JSONResponse(render(snippet), status_code=201)


async def update_project_snippet(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = snippets_project(call)
    if isinstance(project, Response):
        return project
    snippet = find(call, visible(call, project["id"]))
    if snippet is None:
        return not_found("Snippet")
    problem = apply_updates(call, snippet)
    return problem or JSONResponse(render(snippet))


async def delete_project_snippet(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = snippets_project(call)
    if isinstance(project, Response):
        return project
    snippet = find(call, visible(call, project["id"]))
    if snippet is None:
        return not_found("Snippet")
    if not can_admin(call.world, call.user_id, snippet):
        return forbidden()
    call.world.table("snippets").remove(snippet)
    return Response(status_code=204)


async def project_snippet_raw(call: Call) -> Response:
    project = snippets_project(call)
    if isinstance(project, Response):
        return project
    return raw(find(call, visible(call, project["id"])))


async def project_snippet_file(call: Call) -> Response:
    project = snippets_project(call)
    if isinstance(project, Response):
        return project
    return raw_file(call, find(call, visible(call, project["id"])))


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


# --- personal snippets ---------------------------------------------------------------------------
async def list_my_snippets(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    # SnippetsFinder(author: current_user): personal and project snippets the user wrote and can see.
    mine = [s for s in visible(call, any_project=True) if s["author"]["id"] == call.user_id]
    return paginate(call, [render(s) for s in mine])


async def get_snippet(call: Call) -> Response:
    if not call.params["snippet_id"].isdigit():
        return invalid_param("id")
    snippet = find(call, visible(call, any_project=True))
    return not_found("Snippet") if snippet is None else JSONResponse(render(snippet))


async def snippet_raw(call: Call) -> Response:
    return raw(find(call, visible(call, any_project=True)))


async def snippet_file(call: Call) -> Response:
    return raw_file(call, find(call, visible(call, any_project=True)))


async def create_snippet(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    title = call.arg("title")
    if title is None:
        return missing_param("title")
    visibility = visibility_param(call, "internal")  # the documented default for personal snippets
    if isinstance(visibility, Response):
        return visibility
    files = file_params(call)
    if isinstance(files, Response):
        return files
    snippet = add_snippet(call.world, call.user_id, None, str(title), visibility, files, call.arg("description"))
    return JSONResponse(render(snippet), status_code=201)


# --- rows ----------------------------------------------------------------------------------------
def add_snippet(
    world: World,
    author: int,
    project: dict[str, Any] | None,
    title: str,
    visibility: str,
    files: list[dict[str, str]],
    description: str | None = None,
    *,
    sid: int | None = None,
    at: str | None = None,
) -> Snippet:
    when = at or now()
    snippet = {
        "id": sid or world.next_id(),
        "title": title,
        "description": description,
        "visibility": visibility,
        "author": world.user_ref(author),
        "created_at": when,
        "updated_at": when,
        "project_id": project["id"] if project else None,
        "imported": False,
        "imported_from": "none",
        "_files": [dict(f) for f in files],
        "_project_path": project["path_with_namespace"] if project else None,
    }
    if project is None:
        snippet["expires_at"] = None  # Entities::PersonalSnippet
    world.table("snippets").append(snippet)
    return snippet


def fixtures_csv() -> str:
    """A long snippet: a header and 599 rows "n,item-n,n*3"."""
    return "id,name,qty\n" + "".join(f"{n},item-{n},{n * 3}\n" for n in range(1, 600))


def seed(world: World) -> None:
    world.projects[103]["snippets_enabled"] = False  # a field of GET /projects/:id; missing means true
    app, site, secret = world.projects[101], world.projects[102], world.projects[104]
    day = "2024-03-{:02d}T10:00:00.000Z".format
    checklist = "# Deploy checklist\n\n1. Tag the release\n2. Run scripts/deploy.sh\n3. Watch the dashboard\n"
    deploy = [{"path": "deploy.md", "content": checklist}]
    add_snippet(
        world, 1, app, "Deploy checklist", "private", deploy, "Steps for a production deploy.", sid=301, at=day(1)
    )
    fixtures = [{"path": "fixtures.csv", "content": fixtures_csv()}]
    add_snippet(world, 2, app, "Test fixtures", "internal", fixtures, sid=302, at=day(2))
    nginx = [
        {"path": "nginx.conf", "content": "server {\n    listen 80;\n    server_name app.acme.example;\n}\n"},
        {"path": "README.md", "content": "Copy nginx.conf to /etc/nginx/sites-enabled/.\n"},
    ]
    add_snippet(world, 1, app, "Nginx config", "private", nginx, sid=303, at=day(3))
    embed = [{"path": "embed.html", "content": '<script src="https://acme.example/widget.js"></script>\n'}]
    add_snippet(world, 1, site, "Embed code", "public", embed, "Paste into any page.", sid=304, at=day(4))
    keys = [{"path": "analytics.txt", "content": "Analytics account: acme-web\n"}]
    add_snippet(world, 1, site, "Analytics notes", "private", keys, sid=305, at=day(5))
    codes = [{"path": "codes.txt", "content": "0000\n"}]
    add_snippet(world, 2, secret, "Launch codes", "private", codes, sid=306, at=day(6))
    for sid, author, title, visibility, path, content in (
        (311, 1, "Git aliases", "private", ".gitconfig", "[alias]\n    st = status\n    co = checkout\n"),
        (312, 1, "Useful SQL", "public", "queries.sql", "SELECT count(*) FROM users;\n"),
        (313, 2, "Scratch", "private", "scratch.txt", "bob's private notes\n"),
        (314, 2, "Shell tip", "public", "tip.sh", "set -euo pipefail\n"),
        (315, 3, "Team lunch", "internal", "lunch.md", "Fridays at noon.\n"),
    ):
        files = [{"path": path, "content": content}]
        add_snippet(world, author, None, title, visibility, files, sid=sid, at=day(sid - 300))
