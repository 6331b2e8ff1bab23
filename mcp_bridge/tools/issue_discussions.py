"""Issue threads: read them, start and answer them, resolve them, and delete a comment
(doc/api/discussions.md#issues, doc/api/notes.md#delete-an-issue-note).

Issue threads are resolvable since GitLab 16.3 (Noteable.resolvable_types includes Issue), through the
same PUT …/discussions/:discussion_id as merge request threads.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Comment, Iid, Page, PerPage, ProjectRef
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.tools.reactions import issuable
from mcp_bridge.tools.threads import list_threads, note_summary, reply_in_thread, set_resolved, thread_summary

DiscussionId = Annotated[str, Field(description="The thread's id (from list_issue_discussions).", min_length=1)]


def _issue_note(data: dict[str, Any]) -> dict[str, Any]:
    """A note as on merge requests, marked if internal (reporters and up only), so that nobody quotes it
    in public."""
    return note_summary(data) | ({"internal": True} if data.get("internal") else {})


def _issue_thread(data: dict[str, Any]) -> dict[str, Any]:
    return thread_summary(data, _issue_note)


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid/discussions",))
async def list_issue_discussions(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List an issue's comment threads, oldest first (system notes left out): each thread's id, whether
    it is resolved, and its notes. Use the id to reply or resolve."""
    path, what = issuable(project, "issue", iid)
    return await list_threads(path, what, page, per_page, _issue_thread)


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/discussions",))
async def create_issue_thread(project: ProjectRef, iid: Iid, body: Comment) -> dict[str, Any]:
    """Start a resolvable thread on an issue (a plain comment is create_issue_note). Returns the thread."""
    path, what = issuable(project, "issue", iid)
    return _issue_thread(await gitlab().post(f"{path}/discussions", what=what, json={"body": body}))


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/discussions/:discussion_id/notes",))
async def reply_to_issue_discussion(
    project: ProjectRef, iid: Iid, discussion_id: DiscussionId, body: Comment
) -> dict[str, Any]:
    """Reply in an issue thread (replying to a single comment turns it into a thread). Returns the note."""
    path, what = issuable(project, "issue", iid)
    return _issue_note(await reply_in_thread(path, discussion_id, body, f"Thread {discussion_id} of {what}"))


@tool(WRITE, "issues", routes=("PUT /projects/:id/issues/:issue_iid/discussions/:discussion_id",))
async def resolve_issue_discussion(
    project: ProjectRef,
    iid: Iid,
    discussion_id: DiscussionId,
    resolved: Annotated[bool, Field(description="false reopens the thread.")] = True,
) -> dict[str, Any]:
    """Resolve (or unresolve) an issue thread (GitLab 16.3+; Developer role or the issue's author).
    Returns the thread."""
    path, what = issuable(project, "issue", iid)
    return _issue_thread(await set_resolved(path, discussion_id, resolved, f"Thread {discussion_id} of {what}"))


@tool(DESTRUCTIVE, "issues", routes=("DELETE /projects/:id/issues/:issue_iid/notes/:note_id",))
async def delete_issue_note(
    project: ProjectRef,
    iid: Iid,
    note_id: Annotated[
        int, Field(description="The note's id (from list_issue_notes or list_issue_discussions).", ge=1)
    ],
) -> dict[str, Any]:
    """Delete a comment on an issue for good (your own, or any as a Maintainer)."""
    path, what = issuable(project, "issue", iid)
    await gitlab().delete(f"{path}/notes/{note_id}", what=f"Note {note_id} on {what}")
    return {"deleted": True, "note_id": note_id}
