"""Merge request threads: list, start (on a diff position or not), reply and resolve (doc/api/discussions.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.discussions.lookups import (
    Note,
    can_comment,
    discussion,
    merge_request_in_path,
    mr_notes,
    public,
    resolve_thread,
    thread,
)
from tests.gitlab_sim.areas.discussions.positions import placed, position_arg
from tests.gitlab_sim.areas.discussions.rows import add_mr_note
from tests.gitlab_sim.http import Call, error, forbidden, missing_param, not_found, paginate

LINE_CODE_ERROR = '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"]}'


# --- discussions ---------------------------------------------------------------------------------
async def list_discussions(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    threads: dict[str, list[Note]] = {}
    for note in sorted(mr_notes(call.world, mr), key=lambda n: (n["created_at"], n["id"])):
        threads.setdefault(note["_discussion_id"], []).append(note)
    return paginate(call, [discussion(notes) for notes in threads.values()])


async def create_discussion(call: Call) -> Response:
    body = call.arg("body")
    if body is None:
        return missing_param("body")
    position = position_arg(call)
    if isinstance(position, Response):
        return position
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    if not can_comment(call.world, call.user_id or 0, mr):
        return forbidden()
    if not str(body).strip():
        return error(400, '400 Bad request - Note {:note=>["can\'t be blank"]}')
    if position is not None:
        position = placed(call.world, mr, position)
        if position is None:
            return error(400, LINE_CODE_ERROR)
    kind = "DiffNote" if position else "DiscussionNote"
    note = add_mr_note(call.world, mr, author=call.user_id or 0, body=str(body), type=kind, position=position)
    return JSONResponse(discussion([note]), status_code=201)


async def reply(call: Call) -> Response:
    body = call.arg("body")
    if body is None:
        return missing_param("body")
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    notes = thread(call.world, mr, call.params["discussion_id"])
    if not notes:
        return not_found("Discussion")
    if notes[0]["system"]:
        return error(400, "400 Bad request - Discussion can not be replied to.")
    if not can_comment(call.world, call.user_id or 0, mr):
        return forbidden()
    if not str(body).strip():
        return error(400, '400 Bad request - Note {:note=>["can\'t be blank"]}')
    if notes[0]["type"] is None:  # replying turns a single comment into a thread
        notes[0] |= {"type": "DiscussionNote", "resolvable": True, "resolved": False}
    note = add_mr_note(
        call.world,
        mr,
        author=call.user_id or 0,
        body=str(body),
        type="DiscussionNote",
        discussion_id=notes[0]["_discussion_id"],
    )
    return JSONResponse(public(note), status_code=201)


async def resolve_discussion(call: Call) -> Response:
    resolved = call.flag("resolved")
    if resolved is None:
        return missing_param("resolved")
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    notes = thread(call.world, mr, call.params["discussion_id"])
    if not notes:
        return not_found("Discussion")
    return resolve_thread(call, notes, mr)
