"""Simulated GitLab API: issue threads and deleting an issue note (doc/api/discussions.md#issues,
doc/api/notes.md#delete-an-issue-note).

Issue notes live in world.table("notes") (the issues area's rows). A note of a thread carries a private
"_discussion_id"; a plain comment has none and is a discussion of its own whose id is derived from the
note's id, as GitLab gives every note a discussion_id. Threads are resolvable (GitLab 16.3+).
Seed: on acme/app#4 (author bob) an open thread by bob with alice's reply.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.discussions import discussion, public, resolve_thread
from tests.gitlab_sim.areas.issues import add_note, find_issue, unauthorized
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, Router, error, forbidden, missing_param, not_found, paginate
from tests.gitlab_sim.world import GUEST, MAINTAINER, REPORTER, World

Note = dict[str, Any]
Issue = dict[str, Any]
BLANK = '400 Bad request - Note {:note=>["can\'t be blank"]}'


def register(router: Router) -> None:
    base = "/projects/:id/issues/:issue_iid"
    router.route("GET", f"{base}/discussions")(list_discussions)
    router.route("POST", f"{base}/discussions")(create_discussion)
    router.route("PUT", f"{base}/discussions/:discussion_id")(resolve_discussion)
    router.route("POST", f"{base}/discussions/:discussion_id/notes")(reply)
    router.route("DELETE", f"{base}/notes/:note_id")(delete_note)


# --- lookups -------------------------------------------------------------------------------------
def discussion_id(note: Note) -> str:
    return (
        note.get("_discussion_id")
        or hashlib.sha1(f"discussion-{note['id']}".encode(), usedforsecurity=False).hexdigest()
    )


def issue_in_path(call: Call) -> tuple[dict[str, Any], Issue] | Response:
    """The project and issue of the path, or GitLab's error (NotesHelpers#find_noteable: "404 Issue Not Found")."""
    if call.user_id is None:
        return unauthorized()  # the discussions API authenticates every request
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project) if call.params["issue_iid"].isdigit() else None
    if issue is None:
        return not_found("Issue")
    return project, issue


def thread_in_path(call: Call) -> tuple[dict[str, Any], Issue, list[Note]] | Response:
    """The project, issue and notes of the path's thread, or GitLab's 404."""
    found = issue_in_path(call)
    if isinstance(found, Response):
        return found
    project, issue = found
    wanted = call.params["discussion_id"]
    notes = [n for n in issue_notes(call, project, issue) if discussion_id(n) == wanted]
    return (project, issue, notes) if notes else not_found("Discussion")


def issue_notes(call: Call, project: dict[str, Any], issue: Issue) -> list[Note]:
    rows = call.world.table("notes")
    notes = [n for n in rows if n["noteable_type"] == "Issue" and n["noteable_id"] == issue["id"]]
    if call.world.access_level(call.user_id, project["id"]) < REPORTER:
        notes = [n for n in notes if not n["internal"]]  # internal notes: reporters and up
    return sorted(notes, key=lambda n: (n["created_at"], n["id"]))


def can_comment(world: World, user_id: int, project: dict[str, Any], issue: Issue) -> bool:
    locked = issue["discussion_locked"] and world.access_level(user_id, project["id"]) < GUEST
    return not project.get("archived") and not locked


def as_thread_note(note: Note, thread_id: str) -> Note:
    return note | {
        "type": "DiscussionNote",
        "resolvable": True,
        "resolved": False,
        "resolved_by": None,
        "resolved_at": None,
        "_discussion_id": thread_id,
    }


# --- handlers ------------------------------------------------------------------------------------
async def list_discussions(call: Call) -> Response:
    found = issue_in_path(call)
    if isinstance(found, Response):
        return found
    threads: dict[str, list[Note]] = {}
    for note in issue_notes(call, *found):
        threads.setdefault(discussion_id(note), []).append(note)
    return paginate(call, [discussion(notes, thread_id) for thread_id, notes in threads.items()])


async def create_discussion(call: Call) -> Response:
    body = call.arg("body")
    if body is None:
        return missing_param("body")
    found = issue_in_path(call)
    if isinstance(found, Response):
        return found
    project, issue = found
    if not can_comment(call.world, call.user_id or 0, project, issue):
        return forbidden()
    if not str(body).strip():
        return error(400, BLANK)
    note = add_thread_note(call.world, issue, author=call.user_id or 0, body=str(body))
    return JSONResponse(discussion([note], note["_discussion_id"]), status_code=201)


async def reply(call: Call) -> Response:
    body = call.arg("body")
    if body is None:
        return missing_param("body")
    found = thread_in_path(call)
    if isinstance(found, Response):
        return found
    project, issue, notes = found
    wanted = call.params["discussion_id"]
    if notes[0]["system"]:
        return error(400, "400 Bad request - Replies to system notes are not allowed.")
    if not can_comment(call.world, call.user_id or 0, project, issue):
        return forbidden()
    if not str(body).strip():
        return error(400, BLANK)
    if notes[0]["type"] is None:  # replying turns a single comment into a thread
        notes[0] |= as_thread_note(notes[0], wanted)
    note = add_thread_note(call.world, issue, author=call.user_id or 0, body=str(body), thread=wanted)
    return JSONResponse(public(note), status_code=201)


async def resolve_discussion(call: Call) -> Response:
    resolved = call.flag("resolved")
    if resolved is None:
        return missing_param("resolved")
    found = thread_in_path(call)
    if isinstance(found, Response):
        return found
    _, issue, notes = found
    return resolve_thread(call, notes, issue, call.params["discussion_id"])


async def delete_note(call: Call) -> Response:
    found = issue_in_path(call)
    if isinstance(found, Response):
        return found
    project, issue = found
    wanted = call.params["note_id"]
    note = next((n for n in issue_notes(call, project, issue) if str(n["id"]) == wanted), None)
    if note is None:
        return not_found()  # noteable.notes.find raises RecordNotFound
    level = call.world.access_level(call.user_id, project["id"])
    # admin_note: the author or a maintainer, never a system note (NotePolicy).
    if note["system"] or (note["author"]["id"] != call.user_id and level < MAINTAINER):
        return forbidden()
    call.world.table("notes").remove(note)
    issue["user_notes_count"] -= 1
    return Response(status_code=204)


# --- rows ----------------------------------------------------------------------------------------
def add_thread_note(world: World, issue: Issue, *, author: int, body: str, thread: str = "", at: str = "") -> Note:
    """A DiscussionNote on an issue: a new thread, or a reply in `thread`."""
    note = add_note(world, issue, author=author, body=body, at=at)
    note |= as_thread_note(note, thread or discussion_id(note))
    return note


def seed(world: World) -> None:
    issue = next(i for i in world.table("issues") if i["project_id"] == 101 and i["iid"] == 4)
    first = add_thread_note(world, issue, author=2, body="Which columns go in the CSV?", at="2024-04-04T11:00:00.000Z")
    add_thread_note(
        world,
        issue,
        author=1,
        body="Those of the table view.",
        thread=first["_discussion_id"],
        at="2024-04-04T12:00:00.000Z",
    )
