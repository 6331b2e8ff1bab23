"""Finding a merge request, its notes and threads, and who may comment, resolve or administer them."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.merge_requests import find_merge_request
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, error, forbidden, not_found
from tests.gitlab_sim.world import DEVELOPER, GUEST, MAINTAINER, World, now

Note = dict[str, Any]


MR = dict[str, Any]


# --- lookups and rules ---------------------------------------------------------------------------
def merge_request_in_path(call: Call, missing: str = "MergeRequest") -> MR | Response:
    """The MR of the path, or GitLab's error: the Notes API says "404 MergeRequest Not Found"
    (NotesHelpers#find_noteable), the draft notes API "404 Not found" (find_by!)."""
    if call.user_id is None:
        return error(401, "401 Unauthorized")  # both APIs authenticate every request
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    iid = call.params["merge_request_iid"]
    mr = find_merge_request(call.world, project["id"], int(iid)) if iid.isdigit() else None
    if mr is None:
        return not_found(missing) if missing else not_found()
    return mr


def can_comment(world: World, user_id: int, mr: MR) -> bool:
    project = world.projects[mr["project_id"]]
    locked = mr.get("discussion_locked") and world.access_level(user_id, project["id"]) < GUEST
    return not project.get("archived") and not locked


def mr_notes(world: World, mr: MR) -> list[Note]:
    rows = world.table("notes")
    return [n for n in rows if n["noteable_type"] == "MergeRequest" and n["noteable_id"] == mr["id"]]


def thread(world: World, mr: MR, discussion_id: str) -> list[Note]:
    return [n for n in mr_notes(world, mr) if n["_discussion_id"] == discussion_id]


def public(note: Note) -> Note:
    shown = {k: v for k, v in note.items() if not k.startswith("_")}
    if not note["resolvable"]:
        for key in ("resolved", "resolved_by", "resolved_at"):
            shown.pop(key, None)  # Entities::Note exposes these only for resolvable notes
    return shown


def discussion(notes: list[Note], thread_id: str = "") -> dict[str, Any]:
    """A thread in GitLab's shape, on an MR or an issue (whose plain comments have no "_discussion_id")."""
    return {
        "id": thread_id or notes[0]["_discussion_id"],
        "individual_note": notes[0]["type"] is None,
        "notes": [public(n) for n in notes],
    }


def resolve_thread(call: Call, notes: list[Note], noteable: dict[str, Any], thread_id: str = "") -> Response:
    """PUT …/discussions/:discussion_id on an MR's or an issue's thread, once `resolved` and the thread are found."""
    resolved = call.flag("resolved")
    resolvable = [n for n in notes if n["resolvable"]]
    if not resolvable or not may_resolve(call.world, call.user_id or 0, noteable):
        return forbidden()  # NotesHelpers#resolve_discussion: forbidden! unless discussion.can_resolve?
    by = call.world.user_ref(call.user_id or 0) if resolved else None
    for note in resolvable:
        note |= {"resolved": resolved, "resolved_by": by, "resolved_at": now() if resolved else None}
    return JSONResponse(discussion(notes, thread_id))


def may_admin(world: World, user_id: int, note: Note) -> bool:
    """admin_note: the author, or a maintainer of the project (NotePolicy, ProjectPolicy); never system notes."""
    level = world.access_level(user_id, note["project_id"])
    return not note["system"] and (note["author"]["id"] == user_id or level >= MAINTAINER)


def may_resolve(world: World, user_id: int, mr: MR) -> bool:
    # Discussion#can_resolve?: the MR author or a developer and up (doc/api/discussions.md).
    return mr["author"]["id"] == user_id or world.access_level(user_id, mr["project_id"]) >= DEVELOPER
