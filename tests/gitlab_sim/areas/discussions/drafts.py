"""Draft notes: list, create and publish (doc/api/draft_notes.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.discussions.lookups import MR, can_comment, may_resolve, merge_request_in_path, thread
from tests.gitlab_sim.areas.discussions.positions import empty_position, placed, position_arg
from tests.gitlab_sim.areas.discussions.rows import add_mr_note
from tests.gitlab_sim.http import Call, error, forbidden, missing_param
from tests.gitlab_sim.world import now

# --- draft notes ---------------------------------------------------------------------------------
DRAFT_FIELDS: tuple[str, ...] = (
    "id",
    "author_id",
    "merge_request_id",
    "resolve_discussion",
    "discussion_id",
    "note",
    "commit_id",
)


DRAFT_FIELDS += ("line_code", "position")


def my_drafts(call: Call, mr: MR) -> list[dict[str, Any]]:
    # Drafts are private to their author until published (DraftNote.authored_by(current_user)).
    rows = call.world.table("draft_notes")
    return [d for d in rows if d["merge_request_id"] == mr["id"] and d["author_id"] == call.user_id]


async def list_drafts(call: Call) -> Response:
    mr = merge_request_in_path(call, missing="")
    if isinstance(mr, Response):
        return mr
    return JSONResponse([{k: d[k] for k in DRAFT_FIELDS} for d in my_drafts(call, mr)])


async def create_draft(call: Call) -> Response:
    text = call.arg("note")
    if text is None:
        return missing_param("note")
    position = position_arg(call)
    if isinstance(position, Response):
        return position
    mr = merge_request_in_path(call, missing="")
    if isinstance(mr, Response):
        return mr
    if not can_comment(call.world, call.user_id or 0, mr):
        return forbidden()
    problem, discussion_id = draft_problem(call, mr, str(text))
    if problem:
        return error(400, problem)  # render_validation_error!
    draft = {
        "id": call.world.next_id(),
        "author_id": call.user_id,
        "merge_request_id": mr["id"],
        "resolve_discussion": bool(call.flag("resolve_discussion")),
        "discussion_id": discussion_id,
        "note": str(text),
        "commit_id": None,
        "line_code": None,
        "position": empty_position() | (position or {}),
    }
    call.world.table("draft_notes").append(draft)
    return JSONResponse({k: draft[k] for k in DRAFT_FIELDS}, status_code=201)


def draft_problem(call: Call, mr: MR, text: str) -> tuple[dict[str, list[str]] | None, str | None]:
    """DraftNotes::CreateService's base errors and DraftNote's validations, and the thread replied to."""
    if not text.strip():
        return {"note": ["can't be blank"]}, None
    wanted = call.arg("in_reply_to_discussion_id")
    if not wanted:
        return None, None
    notes = thread(call.world, mr, str(wanted))
    if not notes:
        return {"base": ["Thread to reply to cannot be found"]}, None
    if notes[0]["system"]:
        return {"base": ["Replies to system notes are not allowed"]}, None
    if call.flag("resolve_discussion") and not may_resolve(call.world, call.user_id or 0, mr):
        return {"base": ["User is not allowed to resolve thread"]}, None
    return None, str(wanted)


async def publish_drafts(call: Call) -> Response:
    mr = merge_request_in_path(call, missing="")
    if isinstance(mr, Response):
        return mr
    if not can_comment(call.world, call.user_id or 0, mr):
        return error(500, "500 Internal Server Error")  # PublishService's error becomes a bare 500
    for draft in my_drafts(call, mr):
        publish(call, mr, draft)
        call.world.table("draft_notes").remove(draft)
    return Response(status_code=204)


def publish(call: Call, mr: MR, draft: dict[str, Any]) -> None:
    """One draft as the note it stands for; a draft on a line no longer in the diff is lost, as in
    DraftNotes::PublishService (the invalid note is not saved, the drafts are deleted all the same)."""
    world, author = call.world, draft["author_id"]
    if draft["discussion_id"]:
        notes = thread(world, mr, draft["discussion_id"])
        if notes and notes[0]["type"] is None:
            notes[0] |= {"type": "DiscussionNote", "resolvable": True, "resolved": False}
        add_mr_note(
            world, mr, author=author, body=draft["note"], type="DiscussionNote", discussion_id=draft["discussion_id"]
        )
        if draft["resolve_discussion"] and may_resolve(world, author, mr):
            for note in thread(world, mr, draft["discussion_id"]):
                note |= {"resolved": True, "resolved_by": world.user_ref(author), "resolved_at": now()}
        return
    position = draft["position"] if draft["position"].get("head_sha") else None
    if position is not None:
        position = placed(world, mr, position)
        if position is None:
            return
    add_mr_note(world, mr, author=author, body=draft["note"], type="DiffNote" if position else None, position=position)
