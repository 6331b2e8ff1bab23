"""Personal snippets: mine, get, raw content and create (doc/api/snippets.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.snippets.params import file_params, visibility_param
from tests.gitlab_sim.areas.snippets.rows import add_snippet
from tests.gitlab_sim.areas.snippets.rules import find, raw, raw_file, render, unauthorized, visible
from tests.gitlab_sim.http import (
    Call,
    invalid_param,
    missing_param,
    not_found,
    paginate,
)


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
