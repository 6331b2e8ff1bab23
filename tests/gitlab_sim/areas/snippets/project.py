"""Project snippets: list, get, raw content, create, update and delete (doc/api/project_snippets.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.snippets.params import apply_updates, file_params, visibility_param
from tests.gitlab_sim.areas.snippets.rows import add_snippet
from tests.gitlab_sim.areas.snippets.rules import (
    can_admin,
    find,
    raw,
    raw_file,
    render,
    snippets_project,
    unauthorized,
    visible,
)
from tests.gitlab_sim.http import (
    Call,
    forbidden,
    invalid_param,
    missing_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import REPORTER


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
