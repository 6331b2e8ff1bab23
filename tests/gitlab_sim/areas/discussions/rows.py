"""Adding a note to a merge request as GitLab stores it."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.gitlab_sim.areas.discussions.lookups import MR, Note
from tests.gitlab_sim.world import World, now


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
