"""Simulated GitLab API: merge request notes, threads and draft notes (doc/api/notes.md,
doc/api/discussions.md, doc/api/draft_notes.md).

Rows: MR notes live in world.table("notes") with noteable_type "MergeRequest" and a private
"_discussion_id" (keys starting with "_" never leave the simulator); world.table("draft_notes") holds
draft notes in GitLab's DraftNote shape plus "_project_id"/"_iid". Seed on acme/app !1 (author bob):
an open diff thread by alice with bob's reply, a resolved diff thread, bob's comment mentioning #1,
a system note, and a draft by bob; on acme/website !1 an open thread by alice.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.merge_requests import find_merge_request
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, Router, error, forbidden, missing_param, not_found, paginate, param_error
from tests.gitlab_sim.world import DEVELOPER, GUEST, MAINTAINER, World, now

Note = dict[str, Any]
MR = dict[str, Any]
SHA_KEYS = ("base_sha", "start_sha", "head_sha")
LINE_CODE_ERROR = '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"]}'
LINE_CODE = re.compile(r"^[0-9a-f]{40}_\d*_\d*$")  # sha1(path)_old_new
HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def register(router: Router) -> None:
    base = "/projects/:id/merge_requests/:merge_request_iid"
    router.route("GET", f"{base}/discussions")(list_discussions)
    router.route("POST", f"{base}/discussions")(create_discussion)
    router.route("PUT", f"{base}/discussions/:discussion_id")(resolve_discussion)
    router.route("POST", f"{base}/discussions/:discussion_id/notes")(reply)
    router.route("POST", f"{base}/notes")(create_note)
    router.route("PUT", f"{base}/notes/:note_id")(update_note)
    router.route("DELETE", f"{base}/notes/:note_id")(delete_note)
    router.route("GET", f"{base}/draft_notes")(list_drafts)
    router.route("POST", f"{base}/draft_notes")(create_draft)
    router.route("POST", f"{base}/draft_notes/bulk_publish")(publish_drafts)


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


# --- diff positions ------------------------------------------------------------------------------
def empty_position() -> dict[str, Any]:
    keys = (*SHA_KEYS, "old_path", "new_path", "old_line", "new_line", "line_range")
    return {**dict.fromkeys(keys), "position_type": "text"}


def position_arg(call: Call) -> dict[str, Any] | Response | None:
    """`position` as a JSON object or as position[key] form fields, checked like Grape does."""
    raw = call.body.get("position")
    if raw is None:
        prefix = "position["
        pairs = {**dict(call.query), **call.body}
        raw = {k[len(prefix) : -1]: v for k, v in pairs.items() if k.startswith(prefix) and k.endswith("]")} or None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        return param_error("position is invalid")
    for key in (*SHA_KEYS, "position_type"):
        if not raw.get(key):
            return missing_param(f"position[{key}]")
    if raw["position_type"] not in ("text", "image", "file"):
        return param_error("position[position_type] does not have a valid value")
    for key in ("old_line", "new_line"):
        if raw.get(key) is not None and not str(raw[key]).isdigit():
            return param_error(f"position[{key}] is invalid")
    position = empty_position() | {k: raw.get(k) for k in (*SHA_KEYS, "position_type", "old_path", "new_path")}
    for key in ("old_line", "new_line"):
        position[key] = int(raw[key]) if raw.get(key) is not None else None
    line_range = raw.get("line_range")
    if line_range is not None:
        # position[line_range][start|end]: line_code, type (new/old/null), old_line, new_line (doc/api/discussions.md)
        for end in ("start", "end"):
            bound = line_range.get(end) if isinstance(line_range, dict) else None
            if not isinstance(bound, dict) or not LINE_CODE.match(str(bound.get("line_code") or "")):
                return param_error(f"position[line_range][{end}][line_code] is invalid")
            if bound.get("type") not in ("new", "old", None):
                return param_error(f"position[line_range][{end}][type] does not have a valid value")
        position["line_range"] = {
            end: {k: line_range[end].get(k) for k in ("line_code", "type", "old_line", "new_line")}
            for end in ("start", "end")
        }
    return position


def placed(world: World, mr: MR, position: dict[str, Any]) -> dict[str, Any] | None:
    """The position if it names a line of the MR's diff at its current diff_refs, else None (GitLab then
    cannot compute a line_code). Added lines take new_line only, removed lines old_line only, and
    unchanged lines both."""
    from tests.gitlab_sim.areas.merge_request_review import versions

    # The current diff_refs, or those of an earlier diff version (a comment on an older push).
    known = [mr["diff_refs"]] + [
        {"base_sha": v["base_commit_sha"], "start_sha": v["start_commit_sha"], "head_sha": v["head_commit_sha"]}
        for v in versions(world, mr)
    ]
    if not any(all(position.get(k) == refs[k] for k in SHA_KEYS) for refs in known):
        return None
    old_path, new_path = position.get("old_path"), position.get("new_path")
    rows = [r for r in world.table("mr_diffs") if (r["project_id"], r["iid"]) == (mr["project_id"], mr["iid"])]
    file = next((r for r in rows if new_path and r["new_path"] == new_path), None)
    file = file or next((r for r in rows if old_path and r["old_path"] == old_path), None)
    lines = diff_lines(file["diff"]) if file is not None else set()
    if file is None or (position["old_line"], position["new_line"]) not in lines:
        return None
    if position.get("line_range"):
        # The range must start on a line of the same diff, at or above the commented (end) line.
        start, end = position["line_range"]["start"], position["line_range"]["end"]
        if (start.get("old_line"), start.get("new_line")) not in lines:
            return None
        if (end.get("old_line"), end.get("new_line")) != (position["old_line"], position["new_line"]):
            return None
    path_hash = hashlib.sha1(file["new_path"].encode(), usedforsecurity=False).hexdigest()
    old, new = position["old_line"], position["new_line"]
    return position | {
        "old_path": file["old_path"],
        "new_path": file["new_path"],
        "_line_code": f"{path_hash}_{old}_{new}",
    }


def diff_lines(diff: str) -> set[tuple[int | None, int | None]]:
    """(old_line, new_line) of every line of a unified diff: (n, None) removed, (None, n) added, (n, m) kept."""
    lines: set[tuple[int | None, int | None]] = set()
    old = new = 0
    for line in diff.splitlines():
        header = HUNK.match(line)
        if header:
            old, new = int(header.group(1)), int(header.group(2))
        elif line.startswith("-"):
            lines.add((old, None))
            old += 1
        elif line.startswith("+"):
            lines.add((None, new))
            new += 1
        elif line.startswith(" "):
            lines.add((old, new))
            old, new = old + 1, new + 1
    return lines


# --- rows ----------------------------------------------------------------------------------------
def add_mr_note(
    world: World,
    mr: MR,
    *,
    author: int,
    body: str,
    type: str | None = None,
    position: dict[str, Any] | None = None,
    discussion_id: str | None = None,
    system: bool = False,
    at: str = "",
) -> Note:
    """A note on an MR in GitLab's shape (Entities::Note); a new thread unless discussion_id is given."""
    when, note_id = at or now(), world.next_id()
    resolvable = type in ("DiscussionNote", "DiffNote") and not system
    note: Note = {
        "id": note_id,
        "type": type,
        "body": body,
        "attachment": None,
        "author": world.user_ref(author),
        "created_at": when,
        "updated_at": when,
        "system": system,
        "noteable_id": mr["id"],
        "noteable_type": "MergeRequest",
        "project_id": mr["project_id"],
        "noteable_iid": mr["iid"],
        "commit_id": None,
        "resolvable": resolvable,
        "resolved": False,
        "resolved_by": None,
        "resolved_at": None,
        "confidential": False,
        "internal": False,
        "imported": False,
        "imported_from": "none",
        "_discussion_id": discussion_id
        or hashlib.sha1(f"discussion-{note_id}".encode(), usedforsecurity=False).hexdigest(),
    }
    if position is not None:
        line_code = position.pop("_line_code", None)
        note |= {"position": position, "commit_id": mr["sha"], "_line_code": line_code}
    world.table("notes").append(note)
    mr["user_notes_count"] += 0 if system else 1
    return note


# --- seed ----------------------------------------------------------------------------------------
def seed(world: World) -> None:
    login = find_merge_request(world, 101, 1)
    footer = find_merge_request(world, 102, 1)
    assert login is not None and footer is not None
    counts = (login["user_notes_count"], footer["user_notes_count"])  # the MR area's seed values stay
    refs = login["diff_refs"]
    on_check = empty_position() | refs | {"old_path": "app/login.py", "new_path": "app/login.py", "new_line": 4}
    on_auth = empty_position() | refs | {"old_path": "app/session.py", "new_path": "app/auth.py", "new_line": 1}
    first = add_mr_note(
        world, login, author=1, body="Should `check` raise on bad input?", type="DiffNote",
        position=on_check, at="2024-04-18T09:00:00.000Z",
    )  # fmt: skip
    add_mr_note(
        world, login, author=2, body="It returns False; I'll add a docstring.", type="DiscussionNote",
        discussion_id=first["_discussion_id"], at="2024-04-18T10:00:00.000Z",
    )  # fmt: skip
    done = add_mr_note(
        world, login, author=1, body="Rename the comment too?", type="DiffNote", position=on_auth,
        at="2024-04-18T11:00:00.000Z",
    )  # fmt: skip
    done |= {"resolved": True, "resolved_by": world.user_ref(2), "resolved_at": "2024-04-19T08:00:00.000Z"}
    add_mr_note(
        world, login, author=2, body="Ready for another look; this also helps with #1.", at="2024-04-19T09:00:00.000Z"
    )
    add_mr_note(world, login, author=2, body="requested review from @alice", system=True, at="2024-04-19T09:01:00.000Z")
    add_mr_note(
        world, footer, author=1, body="Check the year on mobile too.", type="DiscussionNote",
        at="2024-04-05T12:00:00.000Z",
    )  # fmt: skip
    world.table("draft_notes").append({
        "id": world.next_id(), "author_id": 2, "merge_request_id": login["id"], "resolve_discussion": False,
        "discussion_id": None, "note": "Nit: add a test for the empty form.", "commit_id": None, "line_code": None,
        "position": empty_position(),
    })  # fmt: skip
    login["user_notes_count"], footer["user_notes_count"] = counts
