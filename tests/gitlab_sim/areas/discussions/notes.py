"""Merge request notes: create, update and delete (doc/api/notes.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.discussions.lookups import (
    MR,
    Note,
    can_comment,
    may_admin,
    merge_request_in_path,
    mr_notes,
    public,
)
from tests.gitlab_sim.areas.discussions.rows import add_mr_note
from tests.gitlab_sim.http import Call, error, forbidden, missing_param, not_found, param_error
from tests.gitlab_sim.world import now


# --- notes ---------------------------------------------------------------------------------------
async def create_note(call: Call) -> Response:
    body = call.arg("body")
    if body is None:
        return missing_param("body")
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    if not can_comment(call.world, call.user_id or 0, mr):
        return forbidden()
    if not str(body).strip():
        return error(400, '400 Bad request - Note {:note=>["can\'t be blank"]}')
    note = add_mr_note(call.world, mr, author=call.user_id or 0, body=str(body))
    return JSONResponse(public(note), status_code=201)


def note_in_path(call: Call, mr: MR) -> Note | None:
    wanted = call.params["note_id"]
    return next((n for n in mr_notes(call.world, mr) if str(n["id"]) == wanted), None)


async def update_note(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    body = call.arg("body")
    if body is not None and not str(body).strip():
        return param_error("body is empty")  # allow_blank: false
    note = note_in_path(call, mr)
    if note is None:
        return not_found()  # noteable.notes.find raises RecordNotFound
    if not may_admin(call.world, call.user_id or 0, note):
        return forbidden()
    if body is not None:
        note |= {"body": str(body), "updated_at": now()}
    return JSONResponse(public(note))


async def delete_note(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    note = note_in_path(call, mr)
    if note is None:
        return not_found()
    if not may_admin(call.world, call.user_id or 0, note):
        return forbidden()
    call.world.table("notes").remove(note)
    mr["user_notes_count"] -= 1
    return Response(status_code=204)
