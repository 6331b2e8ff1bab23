"""Merge request threads and comments: list, comment, start a thread on a diff line (with a
suggestion), reply, resolve, change or delete a note (doc/api/discussions.md, doc/api/notes.md)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Comment, Iid, Page, PerPage, ProjectRef, shared_parameters
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import pick
from mcp_bridge.tools.reactions import issuable
from mcp_bridge.tools.threads import (
    list_threads,
    note_summary,
    notes_page,
    reply_in_thread,
    set_resolved,
    thread_summary,
)

NoteId = Annotated[int, Field(description="The note's id (from list_merge_request_discussions).", ge=1)]
DiscussionId = Annotated[str, Field(description="The thread's id (from list_merge_request_discussions).", min_length=1)]
NewPath = Annotated[str | None, Field(description="File path after the change, to comment on a diff line.")]
OldPath = Annotated[str | None, Field(description="File path before the change; only if renamed.")]
NewLine = Annotated[int | None, Field(description="Line in the new file: an added or unchanged line.", ge=1)]
OldLine = Annotated[int | None, Field(description="Line in the old file: a removed or unchanged line.", ge=1)]


def mr_path(project: str, iid: int) -> tuple[str, str]:
    """The merge request's API path and how error messages name it."""
    return issuable(project, "merge_request", iid)


async def diff_position(
    path: str,
    what: str,
    new_path: str | None,
    old_path: str | None,
    new_line: int | None,
    old_line: int | None,
    start: tuple[int | None, int | None] = (None, None),
    version_id: int | None = None,
) -> dict[str, Any] | None:
    """A text diff position at the MR's current diff_refs (or those of diff version `version_id`), fetched
    so that the model need not pass SHAs; with `start` (old line, new line) it spans the lines from there
    to the commented one."""
    if new_path is None and old_path is None and new_line is None and old_line is None:
        return None
    if version_id is not None:
        version = await gitlab().get(f"{path}/versions/{version_id}", what=f"Version {version_id} of {what}")
        refs = {f"{key}_sha": version.get(f"{key}_commit_sha") for key in ("base", "start", "head")}
    else:
        refs = (await gitlab().get(path, what=what)).get("diff_refs") or {}
    position = {
        "position_type": "text",
        **{key: refs.get(key) for key in ("base_sha", "start_sha", "head_sha")},
        "new_path": new_path or old_path,
        "old_path": old_path or new_path,
        "new_line": new_line,
        "old_line": old_line,
    }
    if start != (None, None):
        file = str(new_path or old_path)
        position["line_range"] = {"start": _range_end(file, *start), "end": _range_end(file, old_line, new_line)}
    return position


def _range_end(file: str, old_line: int | None, new_line: int | None) -> dict[str, Any]:
    """One end of position[line_range]: GitLab's line code (sha1 of the path, old and new line) and side."""
    digest = hashlib.sha1(file.encode(), usedforsecurity=False).hexdigest()
    side = "new" if old_line is None else "old" if new_line is None else None
    code = f"{digest}_{old_line or ''}_{new_line or ''}"
    return {"line_code": code, "type": side, "old_line": old_line, "new_line": new_line}


def _suggested(body: str, suggestion: str | None, start_line: int | None, line: int | None) -> str:
    """The comment with a suggestion block replacing the commented lines (doc/user/project/merge_requests/
    reviews/suggestions.md: ```suggestion:-N+0 covers N lines above the commented one)."""
    if suggestion is None:
        return body
    above = max(0, (line or 0) - start_line) if start_line else 0
    return f"{body}\n\n```suggestion:-{above}+0\n{suggestion}\n```"


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/discussions",))
async def list_merge_request_discussions(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List a merge request's threads (system notes left out): id, resolved state and notes; diff notes
    carry their file and line position."""
    path, what = mr_path(project, iid)
    return await list_threads(path, what, page, per_page, thread_summary)


@tool(WRITE, "merge_requests", routes=("POST /projects/:id/merge_requests/:merge_request_iid/notes",))
async def create_merge_request_note(project: ProjectRef, iid: Iid, body: Comment) -> dict[str, Any]:
    """Post a plain comment on a merge request's overview. Returns the note."""
    path, what = mr_path(project, iid)
    return note_summary(await gitlab().post(f"{path}/notes", what=what, json={"body": body}))


@tool(
    WRITE,
    "merge_requests",
    routes=(
        "GET /projects/:id/merge_requests/:merge_request_iid",
        "GET /projects/:id/merge_requests/:merge_request_iid/versions/:version_id",
        "POST /projects/:id/merge_requests/:merge_request_iid/discussions",
    ),
)
async def create_merge_request_thread(
    project: ProjectRef,
    iid: Iid,
    body: Comment,
    new_path: NewPath = None,
    old_path: OldPath = None,
    new_line: NewLine = None,
    old_line: OldLine = None,
    start_new_line: Annotated[int | None, Field(description="First line of a range ending at new_line.", ge=1)] = None,
    start_old_line: Annotated[int | None, Field(description="First line of a range ending at old_line.", ge=1)] = None,
    suggestion: Annotated[
        str | None, Field(description="Replacement text for the commented line(s), offered as a suggestion.")
    ] = None,
    version_id: Annotated[
        int | None, Field(description="Comment on this earlier diff version (list_merge_request_versions).", ge=1)
    ] = None,
) -> dict[str, Any]:
    """Start a resolvable thread on a merge request, or on diff lines when a path and line are given
    (added line: new_line; removed: old_line; unchanged: both; a range: also start_new_line/start_old_line).
    suggestion proposes replacement text the author can apply. Returns the thread."""
    path, what = mr_path(project, iid)
    start = (start_old_line, start_new_line)
    position = await diff_position(path, what, new_path, old_path, new_line, old_line, start, version_id)
    if position:
        what += f" (lines must be in the diff of {position['new_path']}; see get_merge_request_changes)"
    text = _suggested(body, suggestion, start_new_line or start_old_line, new_line or old_line)
    data = await gitlab().post(f"{path}/discussions", what=what, json={"body": text, "position": position})
    return thread_summary(data)


@tool(
    WRITE,
    "merge_requests",
    routes=("POST /projects/:id/merge_requests/:merge_request_iid/discussions/:discussion_id/notes",),
)
async def reply_to_merge_request_discussion(
    project: ProjectRef, iid: Iid, discussion_id: DiscussionId, body: Comment
) -> dict[str, Any]:
    """Reply in a merge request thread (replying to a single comment turns it into a thread). Returns the note."""
    path, what = mr_path(project, iid)
    return note_summary(await reply_in_thread(path, discussion_id, body, what))


@tool(
    WRITE, "merge_requests", routes=("PUT /projects/:id/merge_requests/:merge_request_iid/discussions/:discussion_id",)
)
async def resolve_merge_request_discussion(
    project: ProjectRef,
    iid: Iid,
    discussion_id: DiscussionId,
    resolved: Annotated[bool, Field(description="false reopens the thread.")] = True,
) -> dict[str, Any]:
    """Resolve (or unresolve) a merge request thread; needs Developer or MR authorship. Returns the thread."""
    path, what = mr_path(project, iid)
    return thread_summary(await set_resolved(path, discussion_id, resolved, what))


@tool(WRITE, "merge_requests", routes=("PUT /projects/:id/merge_requests/:merge_request_iid/notes/:note_id",))
async def update_merge_request_note(project: ProjectRef, iid: Iid, note_id: NoteId, body: Comment) -> dict[str, Any]:
    """Edit the text of your own comment on a merge request. Returns the note."""
    path, what = mr_path(project, iid)
    return note_summary(await gitlab().put(f"{path}/notes/{note_id}", what=what, json={"body": body}))


@tool(DESTRUCTIVE, "merge_requests", routes=("DELETE /projects/:id/merge_requests/:merge_request_iid/notes/:note_id",))
async def delete_merge_request_note(project: ProjectRef, iid: Iid, note_id: NoteId) -> dict[str, Any]:
    """Delete your own comment on a merge request, for good."""
    path, what = mr_path(project, iid)
    await gitlab().delete(f"{path}/notes/{note_id}", what=f"Note {note_id} on {what}")
    return {"deleted": True, "note_id": note_id}


TIMELINE_FIELDS = ("id", "type", "body", "author", "created_at", "updated_at", "system")


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid/notes",))
@shared_parameters(notes_page, after="what")
async def list_merge_request_notes(project: ProjectRef, iid: Iid, **paging: Any) -> dict[str, Any]:
    """Every comment on a merge request as a flat timeline, including system notes (pushes, approvals,
    label changes; marked system=true). For threads and diff positions use list_merge_request_discussions."""
    items, meta = await notes_page(*mr_path(project, iid), **paging)
    notes = []
    for item in items:
        note = pick(item, TIMELINE_FIELDS)
        if item.get("resolvable"):
            note["resolved"] = item.get("resolved")
        notes.append(note)
    return {"items": notes, **meta}
