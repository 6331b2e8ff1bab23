"""Issue threads: read them, start and answer them, resolve them, and delete a comment
(doc/api/discussions.md#issues, doc/api/notes.md#delete-an-issue-note).

Issue threads are resolvable since GitLab 16.3 (Noteable.resolvable_types includes Issue), through the
same PUT …/discussions/:discussion_id as merge request threads.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import path_id
from mcp_bridge.toolkit import DESTRUCTIVE, READ, WRITE, Iid, Page, PerPage, ProjectRef, gitlab, tool
from mcp_bridge.tools.discussions import _note, _thread  # threads look the same on issues and MRs

Body = Annotated[str, Field(description="The comment, in GitLab Markdown.", min_length=1)]
DiscussionId = Annotated[str, Field(description="The thread's id (from list_issue_discussions).", min_length=1)]


def _issue_thread(data: dict[str, Any]) -> dict[str, Any]:
    """A thread as on merge requests, with internal notes (reporters and up only) marked as such, so
    that nobody quotes them in public."""
    thread = _thread(data)
    internal = {n["id"] for n in data.get("notes", []) if n.get("internal")}
    for note in thread["notes"]:
        if note["id"] in internal:
            note["internal"] = True
    return thread


def _issue_note(data: dict[str, Any]) -> dict[str, Any]:
    return _note(data) | ({"internal": True} if data.get("internal") else {})


def _issue(project: str, iid: int) -> tuple[str, str]:
    return f"/projects/{path_id(project)}/issues/{iid}", f"Issue #{iid} in {project}"


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid/discussions",))
async def list_issue_discussions(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List an issue's comment threads, oldest first (system notes left out): each thread's id, whether
    it is resolved, and its notes. Use the id to reply or resolve."""
    path, what = _issue(project, iid)
    items, meta = await gitlab().page(f"{path}/discussions", what=what, page=page, per_page=per_page)
    threads = [_issue_thread(d) for d in items]
    return {"items": [t for t in threads if t["notes"]], **meta}


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/discussions",))
async def create_issue_thread(project: ProjectRef, iid: Iid, body: Body) -> dict[str, Any]:
    """Start a resolvable thread on an issue (a plain comment is create_issue_note). Returns the thread."""
    path, what = _issue(project, iid)
    return _issue_thread(await gitlab().post(f"{path}/discussions", what=what, json={"body": body}))


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/discussions/:discussion_id/notes",))
async def reply_to_issue_discussion(
    project: ProjectRef, iid: Iid, discussion_id: DiscussionId, body: Body
) -> dict[str, Any]:
    """Reply in an issue thread (replying to a single comment turns it into a thread). Returns the note."""
    path, what = _issue(project, iid)
    data = await gitlab().post(
        f"{path}/discussions/{path_id(discussion_id)}/notes",
        what=f"Thread {discussion_id} of {what}",
        json={"body": body},
    )
    return _issue_note(data)


@tool(WRITE, "issues", routes=("PUT /projects/:id/issues/:issue_iid/discussions/:discussion_id",))
async def resolve_issue_discussion(
    project: ProjectRef,
    iid: Iid,
    discussion_id: DiscussionId,
    resolved: Annotated[bool, Field(description="false reopens the thread.")] = True,
) -> dict[str, Any]:
    """Resolve (or unresolve) an issue thread (GitLab 16.3+; Developer role or the issue's author).
    Returns the thread."""
    path, what = _issue(project, iid)
    data = await gitlab().put(
        f"{path}/discussions/{path_id(discussion_id)}",
        what=f"Thread {discussion_id} of {what}",
        json={"resolved": resolved},
    )
    return _issue_thread(data)


@tool(DESTRUCTIVE, "issues", routes=("DELETE /projects/:id/issues/:issue_iid/notes/:note_id",))
async def delete_issue_note(
    project: ProjectRef,
    iid: Iid,
    note_id: Annotated[
        int, Field(description="The note's id (from list_issue_notes or list_issue_discussions).", ge=1)
    ],
) -> dict[str, Any]:
    """Delete a comment on an issue for good (your own, or any as a Maintainer)."""
    path, what = _issue(project, iid)
    await gitlab().delete(f"{path}/notes/{note_id}", what=f"Note {note_id} on {what}")
    return {"deleted": True, "note_id": note_id}
