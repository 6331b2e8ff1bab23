"""Issue and note rows: the constants of the issues area, adding an issue or a note, and a note as GitLab
shows it."""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.world import SIM_URL, World, now

Issue = dict[str, Any]


STATES = ("opened", "closed", "all")


SORTS = ("asc", "desc")


# Every documented order_by; those the simulator cannot model (priority, weight…) sort like created_at.
ORDERS: tuple[str, ...] = (
    "created_at",
    "updated_at",
    "priority",
    "due_date",
    "relative_position",
    "label_priority",
    "milestone_due",
)


ORDERS += ("popularity", "title", "weight")


NOTE_ORDERS = ("created_at", "updated_at")


# --- rows --------------------------------------------------------------------------------------
def add_issue(
    world: World,
    project: dict[str, Any],
    *,
    author: int,
    title: str,
    labels: list[str] | tuple[str, ...] = (),
    assignees: list[int] | tuple[int, ...] = (),
    milestone_id: int | None = None,
    created_at: str | None = None,
    **fields: Any,
) -> Issue:
    """A new issue in GitLab's shape; `fields` override any attribute (state, closed_at, due_date…)."""
    rows = world.table("issues")
    iid = 1 + max((i["iid"] for i in rows if i["project_id"] == project["id"]), default=0)
    issue_id, when, full = world.next_id(), created_at or now(), project["path_with_namespace"]
    users = [world.user_ref(uid) for uid in assignees]
    milestones = world.table("milestones")
    milestone = next((m for m in milestones if m["id"] == milestone_id and m["project_id"] == project["id"]), None)
    api = f"{SIM_URL}/api/v4/projects/{project['id']}"
    issue = {
        "id": issue_id,
        "iid": iid,
        "project_id": project["id"],
        "title": title,
        "description": None,
        "state": "opened",
        "created_at": when,
        "updated_at": when,
        "closed_at": None,
        "closed_by": None,
        "labels": sorted(set(labels)),
        "milestone": milestone,
        "assignees": users,
        "assignee": users[0] if users else None,  # deprecated single assignee, still sent
        "author": world.user_ref(author),
        "type": "ISSUE",
        "user_notes_count": 0,
        "merge_requests_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": None,
        "confidential": False,
        "discussion_locked": False,
        "issue_type": "issue",
        "severity": "UNKNOWN",
        "imported": False,
        "imported_from": "none",
        "moved_to_id": None,
        "web_url": f"{SIM_URL}/{full}/-/issues/{iid}",
        "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{full}#{iid}"},
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None},
        "has_tasks": False,
        "task_completion_status": {"count": 0, "completed_count": 0},
        "_links": {"self": f"{api}/issues/{iid}", "notes": f"{api}/issues/{iid}/notes", "project": api},
        **fields,
    }
    rows.append(issue)
    project["open_issues_count"] = sum(1 for i in rows if i["project_id"] == project["id"] and i["state"] == "opened")
    return issue


def shown_note(note: dict[str, Any]) -> dict[str, Any]:
    """A note as the API shows it: private keys ("_discussion_id" of a thread note) stay inside."""
    return {k: v for k, v in note.items() if not k.startswith("_")}


def add_note(
    world: World, issue: Issue, *, author: int, body: str, system: bool = False, internal: bool = False, at: str = ""
) -> dict[str, Any]:
    when = at or now()
    note = {
        "id": world.next_id(),
        "type": None,
        "body": body,
        "attachment": None,
        "author": world.user_ref(author),
        "created_at": when,
        "updated_at": when,
        "system": system,
        "noteable_id": issue["id"],
        "noteable_type": "Issue",
        "project_id": issue["project_id"],
        "noteable_iid": issue["iid"],
        "resolvable": False,
        "confidential": internal,  # the deprecated name of `internal`
        "internal": internal,
        "imported": False,
        "imported_from": "none",
    }
    world.table("notes").append(note)
    issue["user_notes_count"] += 0 if system else 1
    issue["updated_at"] = max(issue["updated_at"], when)  # a note touches its issue
    return note
