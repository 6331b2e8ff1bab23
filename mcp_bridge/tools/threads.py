"""Threads and notes as tools return them, on merge requests and issues alike: shaping, listing,
replying and resolving (doc/api/discussions.md), and the flat timeline of notes (doc/api/notes.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage
from mcp_bridge.paths import path_id
from mcp_bridge.shaping import pick

NOTE_FIELDS = ("id", "author", "body", "created_at", "updated_at", "resolvable", "resolved", "resolved_by")
POSITION_FIELDS = ("old_path", "new_path", "old_line", "new_line")
RANGE_FIELDS = ("old_line", "new_line")

NoteSort = Annotated[Literal["asc", "desc"], Field(description="asc = oldest first.")]


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


async def notes_page(
    path: str, what: str, sort: NoteSort = "asc", page: Page = 1, per_page: PerPage = 20
) -> tuple[list[Any], dict[str, Any]]:
    """A page of every note on the noteable at `path`, system notes included, by creation (`sort`).
    Its parameters after `what` are those of the tools that list notes."""
    params = {"sort": sort, "order_by": "created_at"}
    return await gitlab().page(f"{path}/notes", what=what, page=page, per_page=per_page, params=params)


async def reply_in_thread(path: str, discussion_id: str, body: str, what: str) -> dict[str, Any]:
    """Post a reply in a thread of the noteable at `path`; GitLab's note, unshaped."""
    return await gitlab().post(f"{path}/discussions/{path_id(discussion_id)}/notes", what=what, json={"body": body})


async def set_resolved(path: str, discussion_id: str, resolved: bool, what: str) -> dict[str, Any]:
    """Resolve or reopen a thread of the noteable at `path`; GitLab's thread, unshaped."""
    return await gitlab().put(f"{path}/discussions/{path_id(discussion_id)}", what=what, json={"resolved": resolved})
