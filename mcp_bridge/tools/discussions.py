"""Merge request review: threads, comments and draft notes (doc/api/discussions.md, doc/api/notes.md,
doc/api/draft_notes.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import pick

NOTE_FIELDS = ("id", "author", "body", "created_at", "updated_at", "resolvable", "resolved", "resolved_by")
POSITION_FIELDS = ("old_path", "new_path", "old_line", "new_line")
RANGE_FIELDS = ("old_line", "new_line")
DRAFT_FIELDS = ("id", "note", "discussion_id", "resolve_discussion")

Body = Annotated[str, Field(description="The comment, in GitLab Markdown.", min_length=1)]
NoteId = Annotated[int, Field(description="The note's id (from list_merge_request_discussions).", ge=1)]
DiscussionId = Annotated[str, Field(description="The thread's id (from list_merge_request_discussions).", min_length=1)]
NewPath = Annotated[str | None, Field(description="File path after the change, to comment on a diff line.")]
OldPath = Annotated[str | None, Field(description="File path before the change; only if renamed.")]
NewLine = Annotated[int | None, Field(description="Line in the new file: an added or unchanged line.", ge=1)]
OldLine = Annotated[int | None, Field(description="Line in the old file: a removed or unchanged line.", ge=1)]


def _mr(project: str, iid: int) -> tuple[str, str]:
    return f"/projects/{path_id(project)}/merge_requests/{iid}", f"Merge request !{iid} in {project}"


def note_summary(data: dict[str, Any]) -> dict[str, Any]:
    """A note as tools return it, on merge requests and issues alike."""
    note = pick(data, NOTE_FIELDS)
    if not note.get("resolvable"):
        for key in ("resolvable", "resolved", "resolved_by"):
            note.pop(key, None)
    if data.get("position"):
        note["position"] = pick(data["position"], POSITION_FIELDS)
        line_range = data["position"].get("line_range") or {}
        if line_range.get("start"):
            note["position"]["start"] = pick(line_range["start"], RANGE_FIELDS)
    return note


def thread_summary(
    data: dict[str, Any], note: Callable[[dict[str, Any]], dict[str, Any]] = note_summary
) -> dict[str, Any]:
    """A thread as tools return it (system notes left out), each note shaped by `note`."""
    notes = [note(n) for n in data.get("notes", []) if not n.get("system")]
    resolvable = [n for n in notes if n.get("resolvable")]
    thread: dict[str, Any] = {"id": data["id"], "individual_note": data.get("individual_note"), "notes": notes}
    if resolvable:
        thread["resolved"] = all(n.get("resolved") for n in resolvable)
    return thread


async def list_threads(
    path: str, what: str, page: int, per_page: int, shape: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """A page of the noteable's (`path`) threads, shaped, without those left empty of notes."""
    items, meta = await gitlab().page(f"{path}/discussions", what=what, page=page, per_page=per_page)
    threads = [shape(d) for d in items]
    return {"items": [t for t in threads if t["notes"]], **meta}


async def reply_in_thread(path: str, discussion_id: str, body: str, what: str) -> dict[str, Any]:
    """Post a reply in a thread of the noteable at `path`; GitLab's note, unshaped."""
    return await gitlab().post(f"{path}/discussions/{path_id(discussion_id)}/notes", what=what, json={"body": body})


async def set_resolved(path: str, discussion_id: str, resolved: bool, what: str) -> dict[str, Any]:
    """Resolve or reopen a thread of the noteable at `path`; GitLab's thread, unshaped."""
    return await gitlab().put(f"{path}/discussions/{path_id(discussion_id)}", what=what, json={"resolved": resolved})


async def _position(
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
    path, what = _mr(project, iid)
    return await list_threads(path, what, page, per_page, thread_summary)


@tool(WRITE, "merge_requests", routes=("POST /projects/:id/merge_requests/:merge_request_iid/notes",))
async def create_merge_request_note(project: ProjectRef, iid: Iid, body: Body) -> dict[str, Any]:
    """Post a plain comment on a merge request's overview. Returns the note."""
    path, what = _mr(project, iid)
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
    body: Body,
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
    path, what = _mr(project, iid)
    start = (start_old_line, start_new_line)
    position = await _position(path, what, new_path, old_path, new_line, old_line, start, version_id)
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
    project: ProjectRef, iid: Iid, discussion_id: DiscussionId, body: Body
) -> dict[str, Any]:
    """Reply in a merge request thread (replying to a single comment turns it into a thread). Returns the note."""
    path, what = _mr(project, iid)
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
    path, what = _mr(project, iid)
    return thread_summary(await set_resolved(path, discussion_id, resolved, what))


@tool(WRITE, "merge_requests", routes=("PUT /projects/:id/merge_requests/:merge_request_iid/notes/:note_id",))
async def update_merge_request_note(project: ProjectRef, iid: Iid, note_id: NoteId, body: Body) -> dict[str, Any]:
    """Edit the text of your own comment on a merge request. Returns the note."""
    path, what = _mr(project, iid)
    return note_summary(await gitlab().put(f"{path}/notes/{note_id}", what=what, json={"body": body}))


@tool(DESTRUCTIVE, "merge_requests", routes=("DELETE /projects/:id/merge_requests/:merge_request_iid/notes/:note_id",))
async def delete_merge_request_note(project: ProjectRef, iid: Iid, note_id: NoteId) -> dict[str, Any]:
    """Delete your own comment on a merge request, for good."""
    path, what = _mr(project, iid)
    await gitlab().delete(f"{path}/notes/{note_id}", what=f"Note {note_id} on {what}")
    return {"deleted": True, "note_id": note_id}


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
    note: Body,
    in_reply_to_discussion_id: Annotated[str | None, Field(description="Thread to reply to.")] = None,
    resolve_discussion: Annotated[bool, Field(description="Resolve that thread on publish.")] = False,
    new_path: NewPath = None,
    old_path: OldPath = None,
    new_line: NewLine = None,
    old_line: OldLine = None,
) -> dict[str, Any]:
    """Add a pending review comment, visible only to you until publish_draft_notes; optionally a reply or
    on a diff line (as in create_merge_request_thread). Returns the draft."""
    path, what = _mr(project, iid)
    body: dict[str, Any] = {"note": note, "in_reply_to_discussion_id": in_reply_to_discussion_id}
    body["resolve_discussion"] = resolve_discussion or None
    body["position"] = await _position(path, what, new_path, old_path, new_line, old_line)
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
    path, what = _mr(project, iid)
    drafts = await gitlab().get(f"{path}/draft_notes", what=what)
    return {"items": [_draft(d) for d in drafts]}


@tool(
    WRITE, "merge_requests", routes=("POST /projects/:id/merge_requests/:merge_request_iid/draft_notes/bulk_publish",)
)
async def publish_draft_notes(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Publish all your draft notes on a merge request at once, as one review."""
    path, what = _mr(project, iid)
    await gitlab().post(f"{path}/draft_notes/bulk_publish", what=what)
    return {"published": True, "iid": iid}
