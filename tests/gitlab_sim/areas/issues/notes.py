"""Issue notes: list, create and edit (doc/api/notes.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.issues.editing import on_issue
from tests.gitlab_sim.areas.issues.reading import find_issue, unauthorized
from tests.gitlab_sim.areas.issues.rows import NOTE_ORDERS, SORTS, add_note, shown_note
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_value,
    missing_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import GUEST, MAINTAINER, REPORTER, now


# --- notes -------------------------------------------------------------------------------------
async def list_notes(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()  # the notes API authenticates every request
    order, sort = call.arg("order_by", "created_at"), call.arg("sort", "desc")
    for name, value, allowed in (("order_by", order, NOTE_ORDERS), ("sort", sort, SORTS)):
        if value not in allowed:
            return invalid_value(name)
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")  # NotesHelpers#find_noteable: not_found!(noteable_type)
    notes = [n for n in call.world.table("notes") if n["noteable_type"] == "Issue" and n["noteable_id"] == issue["id"]]
    if call.world.access_level(call.user_id, project["id"]) < REPORTER:
        notes = [n for n in notes if not n["internal"]]  # internal notes: reporters and up
    notes.sort(key=lambda n: (n[order], n["id"]), reverse=sort == "desc")
    return paginate(call, [shown_note(n) for n in notes])


async def create_note(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    body = call.arg("body")
    if body is None:
        return missing_param("body")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    level = call.world.access_level(call.user_id, project["id"])
    if project.get("archived") or (issue["discussion_locked"] and level < GUEST):
        return forbidden()  # a locked discussion takes comments from project members only
    if not str(body).strip():
        return error(400, '400 Bad request - Note {:note=>["can\'t be blank"]}')
    # Notes::BuildService silently drops `internal` for users below reporter.
    internal = bool(call.flag("internal") or call.flag("confidential")) and level >= REPORTER
    note = add_note(call.world, issue, author=call.user_id, body=str(body), internal=internal)
    return JSONResponse(note, status_code=201)


# --- editing a note ----------------------------------------------------------------------------------
async def update_note(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    body = call.arg("body")
    if body is not None and not str(body).strip():
        return param_error("body is empty")  # allow_blank: false
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    wanted = call.params["note_id"]
    note = next((n for n in call.world.table("notes") if on_issue(n, issue) and str(n["id"]) == wanted), None)
    if note is None:
        return not_found()  # noteable.notes.find raises RecordNotFound
    level = call.world.access_level(call.user_id, project["id"])
    # admin_note: the author or a maintainer; never system notes; internal notes need reporter (NotePolicy).
    allowed = (note["author"]["id"] == call.user_id or level >= MAINTAINER) and not note["system"]
    if not allowed or (note["internal"] and level < REPORTER):
        return forbidden()
    if body is not None:
        note |= {"body": str(body), "updated_at": now()}
    return JSONResponse(shown_note(note))
