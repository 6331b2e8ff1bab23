"""Editing, deleting and moving an issue (doc/api/issues.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.issues.reading import date_or_none, detail, find_issue, unauthorized
from tests.gitlab_sim.areas.issues.rows import Issue, add_issue, add_note
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    param_error,
)
from tests.gitlab_sim.world import OWNER, REPORTER, World, now

# --- edit, delete, move ----------------------------------------------------------------------------
# The at_least_one_of parameters of PUT /projects/:id/issues/:issue_iid (lib/api/issues.rb).
UPDATABLE = (
    "title", "description", "assignee_ids", "assignee_id", "milestone_id", "discussion_locked", "labels",
    "add_labels", "remove_labels", "created_at", "due_date", "confidential", "state_event", "issue_type",
)  # fmt: skip


async def update_issue(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    if not any(key in call.body or key in call.query for key in UPDATABLE):
        return param_error(f"{', '.join(UPDATABLE)} are missing, at least one parameter must be provided")
    if call.arg("state_event") not in (None, "close", "reopen"):
        return invalid_value("state_event")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    level = call.world.access_level(call.user_id, project["id"])
    involved = call.user_id in (issue["author"]["id"], *(a["id"] for a in issue["assignees"]))
    if level < REPORTER and not involved:
        return forbidden()  # update_issue: planners/reporters and up, or the author or an assignee
    if call.arg("title") is not None and not str(call.arg("title")).strip():
        return error(400, {"title": ["can't be blank"]})
    # Issues::UpdateService#filter_params drops what only reporters and up may change.
    admin = level >= REPORTER
    _apply_edits(call, project, issue, admin=admin)
    return JSONResponse(detail(call, issue))


def _apply_edits(call: Call, project: dict[str, Any], issue: Issue, *, admin: bool) -> None:
    world, when = call.world, now()
    for key in ("title", "description"):
        if key in call.body or key in call.query:
            issue[key] = call.arg(key)
    if admin:
        _apply_admin_edits(call, project, issue)
    event = call.arg("state_event")
    if event == "close" and issue["state"] == "opened":
        issue |= {"state": "closed", "closed_at": when, "closed_by": world.user_ref(call.user_id or 0)}
        add_note(world, issue, author=call.user_id or 0, body="closed", system=True, at=when)
    elif event == "reopen" and issue["state"] == "closed":
        issue |= {"state": "opened", "closed_at": None, "closed_by": None}
        add_note(world, issue, author=call.user_id or 0, body="reopened", system=True, at=when)
    issue["updated_at"] = when
    _count_open(world, project)


def _apply_admin_edits(call: Call, project: dict[str, Any], issue: Issue) -> None:
    world = call.world
    if "labels" in call.body or "labels" in call.query:
        issue["labels"] = sorted({label.strip() for label in call.arg_list("labels") if label.strip()})
    added = {label.strip() for label in call.arg_list("add_labels") if label.strip()}
    removed = {label.strip() for label in call.arg_list("remove_labels")}
    issue["labels"] = sorted((set(issue["labels"]) | added) - removed)
    raw = call.arg_list("assignee_ids") if "assignee_ids" in call.body or call.query.get("assignee_ids[]") else None
    if raw is not None:  # [] or [0] unassigns everyone
        ids = [int(v) for v in raw if str(v).isdigit() and int(v) in world.users]
        users = [world.user_ref(u) for u in ids if world.can_read(u, project)]
        issue |= {"assignees": users, "assignee": users[0] if users else None}
    if "milestone_id" in call.body or "milestone_id" in call.query:
        wanted = str(call.arg("milestone_id") or "")
        milestones = world.table("milestones")
        issue["milestone"] = next(
            (m for m in milestones if str(m["id"]) == wanted and m["project_id"] == project["id"]), None
        )
    if "due_date" in call.body or "due_date" in call.query:
        issue["due_date"] = date_or_none(call.arg("due_date"))
    for flag in ("confidential", "discussion_locked"):
        if call.flag(flag) is not None:
            issue[flag] = call.flag(flag)


def _count_open(world: World, project: dict[str, Any]) -> None:
    rows = world.table("issues")
    project["open_issues_count"] = sum(1 for i in rows if i["project_id"] == project["id"] and i["state"] == "opened")


async def delete_issue(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    if call.world.access_level(call.user_id, project["id"]) < OWNER:
        return forbidden()  # doc/api/issues.md: only for administrators and project owners
    world = call.world
    world.table("issues").remove(issue)
    world.rows["notes"] = [n for n in world.table("notes") if not on_issue(n, issue)]
    world.rows["issue_links"] = [
        k for k in world.table("issue_links") if issue["id"] not in (k["source_id"], k["target_id"])
    ]
    _count_open(world, project)
    return Response(status_code=204)


def on_issue(note: dict[str, Any], issue: Issue) -> bool:
    return note["noteable_type"] == "Issue" and note["noteable_id"] == issue["id"]


async def move_issue(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    target_id = call.arg("to_project_id")
    if target_id is None:
        return missing_param("to_project_id")
    if not str(target_id).isdigit():
        return invalid_param("to_project_id")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    world = call.world
    target = world.projects.get(int(target_id))
    if target is None or not world.can_read(call.user_id, target):
        return not_found("Project")
    # Issue#can_move?: not moved yet, and admin_issue (reporter and up) in both projects.
    allowed = issue["moved_to_id"] is None and target.get("issues_enabled", True)
    allowed = allowed and min(world.access_level(call.user_id, p["id"]) for p in (project, target)) >= REPORTER
    if not allowed:
        return error(400, "Cannot move issue due to insufficient permissions!")
    if target["id"] == project["id"]:
        return error(400, "Cannot move issue to project it originates from!")
    moved = _moved_copy(call, issue, target)
    return JSONResponse(detail(call, moved), status_code=201)


def _moved_copy(call: Call, issue: Issue, target: dict[str, Any]) -> Issue:
    """Issues::MoveService: a copy in the target with the notes, and the original closed, pointing at it."""
    world, when = call.world, now()
    assignees = [a["id"] for a in issue["assignees"] if world.can_read(a["id"], target)]
    moved = add_issue(
        world, target, author=issue["author"]["id"], title=issue["title"], labels=issue["labels"], assignees=assignees,
        description=issue["description"], confidential=issue["confidential"], due_date=issue["due_date"],
    )  # fmt: skip
    for note in [n for n in world.table("notes") if on_issue(n, issue)]:
        copy = add_note(
            world, moved, author=note["author"]["id"], body=note["body"], system=note["system"], at=note["created_at"]
        )
        copy["internal"] = copy["confidential"] = note["internal"]
    source = world.projects[issue["project_id"]]
    add_note(world, moved, author=call.user_id or 0, body=f"moved from {issue['references']['full']}", system=True)
    add_note(world, issue, author=call.user_id or 0, body=f"moved to {moved['references']['full']}", system=True)
    issue |= {"state": "closed", "closed_at": when, "closed_by": world.user_ref(call.user_id or 0)}
    issue |= {"moved_to_id": moved["id"], "updated_at": when}
    _count_open(world, source)
    return moved
