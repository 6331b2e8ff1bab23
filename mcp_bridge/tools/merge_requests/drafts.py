"""Draft notes: a review's pending comments, visible only to you until published
(doc/api/draft_notes.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Comment, Iid, ProjectRef
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import pick
from mcp_bridge.tools.merge_requests.discussions import NewLine, NewPath, OldLine, OldPath, diff_position, mr_path
from mcp_bridge.tools.threads import POSITION_FIELDS

DRAFT_FIELDS = ("id", "note", "discussion_id", "resolve_discussion")
DraftNoteId = Annotated[int, Field(description="The draft's id (from list_draft_notes).", ge=1)]
MR = "/projects/:id/merge_requests/:merge_request_iid"


@tool(
    WRITE,
    "merge_requests",
    routes=(
        "GET /projects/:id/merge_requests/:merge_request_iid",
        "POST /projects/:id/merge_requests/:merge_request_iid/draft_notes",
    ),
)
async def create_draft_note(
    project: ProjectRef,
    iid: Iid,
    note: Comment,
    in_reply_to_discussion_id: Annotated[str | None, Field(description="Thread to reply to.")] = None,
    resolve_discussion: Annotated[bool, Field(description="Resolve that thread on publish.")] = False,
    new_path: NewPath = None,
    old_path: OldPath = None,
    new_line: NewLine = None,
    old_line: OldLine = None,
) -> dict[str, Any]:
    """Add a pending review comment, visible only to you until publish_draft_notes; optionally a reply or
    on a diff line (as in create_merge_request_thread). Returns the draft."""
    path, what = mr_path(project, iid)
    body: dict[str, Any] = {"note": note, "in_reply_to_discussion_id": in_reply_to_discussion_id}
    body["resolve_discussion"] = resolve_discussion or None
    body["position"] = await diff_position(path, what, new_path, old_path, new_line, old_line)
    return _draft(await gitlab().post(f"{path}/draft_notes", what=what, json=body))


def _draft(data: dict[str, Any]) -> dict[str, Any]:
    draft = pick(data, DRAFT_FIELDS)
    position = data.get("position") or {}
    if position.get("new_path") or position.get("old_path"):
        draft["position"] = pick(position, POSITION_FIELDS)
    return draft


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/draft_notes",))
async def list_draft_notes(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """List your unpublished draft notes on a merge request."""
    path, what = mr_path(project, iid)
    drafts = await gitlab().get(f"{path}/draft_notes", what=what)
    return {"items": [_draft(d) for d in drafts]}


@tool(
    WRITE, "merge_requests", routes=("POST /projects/:id/merge_requests/:merge_request_iid/draft_notes/bulk_publish",)
)
async def publish_draft_notes(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Publish all your draft notes on a merge request at once, as one review."""
    path, what = mr_path(project, iid)
    await gitlab().post(f"{path}/draft_notes/bulk_publish", what=what)
    return {"published": True, "iid": iid}


@tool(
    WRITE,
    "merge_requests",
    routes=(f"GET {MR}", f"PUT {MR}/draft_notes/:draft_note_id"),
)
async def update_draft_note(
    project: ProjectRef,
    iid: Iid,
    draft_note_id: DraftNoteId,
    note: Annotated[str | None, Field(description="New text, in GitLab Markdown.", min_length=1)] = None,
    new_path: NewPath = None,
    old_path: OldPath = None,
    new_line: NewLine = None,
    old_line: OldLine = None,
) -> dict[str, Any]:
    """Change one of your unpublished draft notes: its text, or the diff line it is on. Returns the draft."""
    path, what = mr_path(project, iid)
    body: dict[str, Any] = {"note": note}
    body["position"] = await diff_position(path, what, new_path, old_path, new_line, old_line)
    data = await gitlab().put(
        f"{path}/draft_notes/{draft_note_id}", what=f"Draft note {draft_note_id} on {what}", json=body
    )
    return _draft(data)


@tool(DESTRUCTIVE, "merge_requests", routes=(f"DELETE {MR}/draft_notes/:draft_note_id",))
async def delete_draft_note(project: ProjectRef, iid: Iid, draft_note_id: DraftNoteId) -> dict[str, Any]:
    """Delete one of your unpublished draft notes; it is gone for good."""
    path, what = mr_path(project, iid)
    await gitlab().delete(f"{path}/draft_notes/{draft_note_id}", what=f"Draft note {draft_note_id} on {what}")
    return {"deleted": True, "draft_note_id": draft_note_id}


@tool(WRITE, "merge_requests", routes=(f"PUT {MR}/draft_notes/:draft_note_id/publish",))
async def publish_draft_note(project: ProjectRef, iid: Iid, draft_note_id: DraftNoteId) -> dict[str, Any]:
    """Publish one of your draft notes now, leaving the others pending (publish_draft_notes sends all)."""
    path, what = mr_path(project, iid)
    await gitlab().put(f"{path}/draft_notes/{draft_note_id}/publish", what=f"Draft note {draft_note_id} on {what}")
    return {"published": True, "draft_note_id": draft_note_id}
