"""A merge request's state as GitLab derives it: its detail shape, commits, mergeability, approvals state
and the refresh after every change; and the row a new merge request starts as."""

from __future__ import annotations

import re
from typing import Any

from tests.gitlab_sim.areas import merge_checks
from tests.gitlab_sim.areas.repository import (
    find_branch,
    history,
    protections,
    public_commit,
)
from tests.gitlab_sim.http import (
    Call,
)
from tests.gitlab_sim.world import DEVELOPER, SIM_URL, World, now

# --- the state machine ------------------------------------------------------------------------------
PIPELINE_MUST_SUCCEED = frozenset({101})  # projects with "Pipelines must succeed" turned on


AUTHORS_CANNOT_APPROVE = frozenset({101})  # merge_requests_author_approval=false (doc/api/merge_request_approvals.md)


DRAFT = re.compile(r"^\s*(\[draft\]|\(draft\)|draft:)\s*", re.IGNORECASE)  # MergeRequest::DRAFT_REGEX


REBASE_FAILED = "Rebase failed: Rebase locally, resolve all conflicts, then push the branch."


UPDATE_PARAMS = (
    "assignee_id", "assignee_ids", "reviewer_ids", "description", "labels", "add_labels", "remove_labels",
    "milestone_id", "remove_source_branch", "allow_collaboration", "allow_maintainer_to_push", "squash",
    "target_branch", "title", "state_event", "discussion_locked", "merge_after",
)  # fmt: skip


SAME_BRANCH = "You can't use same project/branch for source and target"


def detailed_status(world: World, mr: dict[str, Any]) -> str:
    """detailed_merge_status: the first failing check, in GitLab's order (doc/api/merge_requests.md);
    checks the simulator does not derive come from merge_checks (set by tests)."""
    if mr["state"] != "opened":
        return "not_open"
    pipeline = (mr.get("head_pipeline") or {}).get("status")
    derived = set()
    if mr["draft"]:
        derived.add("draft_status")
    if mr["has_conflicts"]:
        derived.add("conflict")
    if not mr["blocking_discussions_resolved"]:
        derived.add("discussions_not_resolved")
    if approval_state(world, mr)["approvals_left"]:
        derived.add("not_approved")
    if mr["project_id"] in PIPELINE_MUST_SUCCEED and pipeline != "success":
        derived.add("ci_still_running" if pipeline in ("created", "pending", "running") else "ci_must_pass")
    if mr.get("merge_after") and str(mr["merge_after"]) > now():  # doc/api/merge_requests.md: merge_after
        derived.add("merge_time")
    return merge_checks.first_failing(derived, merge_checks.failing(world, mr))


def refresh(world: World, mr: dict[str, Any], *, touched: bool = True) -> None:
    mr["draft"] = mr["work_in_progress"] = bool(DRAFT.match(mr["title"]))
    mr["detailed_merge_status"] = detailed_status(world, mr)
    if touched:
        mr["updated_at"] = now()


def can_merge(world: World, user_id: int | None, mr: dict[str, Any]) -> bool:
    """Merging is pushing to the target: Developer, and a role allowed to merge into a protected branch."""
    level = world.access_level(user_id, mr["project_id"])
    rules = protections(world, mr["project_id"], mr["target_branch"])
    return level >= DEVELOPER and (not rules or any(0 < rule["merge_access_level"] <= level for rule in rules))


def detail(call: Call, mr: dict[str, Any]) -> dict[str, Any]:
    return {**mr, "user": {"can_merge": can_merge(call.world, call.user_id, mr)}}


def mr_commits(world: World, mr: dict[str, Any]) -> list[dict[str, Any]]:
    """An open MR's commits: on its source branch and not on its target; otherwise as last recorded."""
    pid = mr["project_id"]
    source, target = find_branch(world, pid, mr["source_branch"]), find_branch(world, pid, mr["target_branch"])
    if mr["state"] == "opened" and source and target:
        base = {c["id"] for c in history(world, pid, target["head"])}
        return [public_commit(c) for c in history(world, pid, source["head"]) if c["id"] not in base]
    rows = world.table("mr_commits")
    return next((r["commits"] for r in rows if (r["project_id"], r["iid"]) == (pid, mr["iid"])), [])


def record_commits(world: World, mr: dict[str, Any], commits: list[dict[str, Any]]) -> None:
    rows = world.table("mr_commits")
    rows[:] = [r for r in rows if (r["project_id"], r["iid"]) != (mr["project_id"], mr["iid"])]
    rows.append({"project_id": mr["project_id"], "iid": mr["iid"], "commits": commits})


def _user_ids(call: Call, name: str) -> list[dict[str, Any]] | None:
    """assignee_ids / reviewer_ids: None when absent; 0 or an empty value clears them."""
    if call.arg(name) is None:
        return None
    ids = [int(v) for v in call.arg_list(name) if str(v).isdigit() and int(v) in call.world.users]
    return [call.world.user_ref(i) for i in dict.fromkeys(ids)]


def people_of(mr: dict[str, Any], call: Call) -> None:
    single = call.arg("assignee_id")
    assignees = _user_ids(call, "assignee_ids")
    if assignees is None and single is not None:
        assignees = [call.world.user_ref(int(single))] if int(single) in call.world.users else []
    if assignees is not None:
        mr["assignees"], mr["assignee"] = assignees, assignees[0] if assignees else None
    reviewers = _user_ids(call, "reviewer_ids")
    if reviewers is not None:
        mr["reviewers"] = reviewers


# --- approvals (doc/api/merge_request_approvals.md) -------------------------------------------------
def approval_state(world: World, mr: dict[str, Any], user_id: int | None = None) -> dict[str, Any]:
    """GET .../approvals as GitLab answers it (EE's ApprovalState entity, a superset of CE's)."""
    key = (mr["project_id"], mr["iid"])
    approvers = [a["user_id"] for a in world.table("mr_approvals") if (a["project_id"], a["iid"]) == key]
    rules = world.table("mr_approval_rules")
    required = next((r["approvals_required"] for r in rules if (r["project_id"], r["iid"]) == key), 0)
    left = max(0, required - len(approvers))
    return {
        **{k: mr[k] for k in ("id", "iid", "project_id", "title", "description", "state", "created_at", "updated_at")},
        "merge_status": mr["merge_status"], "approved": left == 0, "approvals_required": required,
        "approvals_left": left, "require_password_to_approve": False,
        "approved_by": [{"user": world.user_ref(uid)} for uid in approvers],
        "suggested_approvers": [], "approvers": [], "approver_groups": [],
        "user_has_approved": user_id in approvers, "user_can_approve": can_approve(world, mr, user_id, approvers),
        "approval_rules_left": [], "has_approval_rules": required > 0,
        "merge_request_approvers_available": False, "multiple_approval_rules_available": False,
    }  # fmt: skip


def can_approve(world: World, mr: dict[str, Any], user_id: int | None, approvers: list[int]) -> bool:
    if user_id is None or user_id in approvers or mr["state"] != "opened":
        return False
    if mr["project_id"] in AUTHORS_CANNOT_APPROVE and mr["author"]["id"] == user_id:
        return False
    return world.access_level(user_id, mr["project_id"]) >= DEVELOPER


EXTRAS: dict[tuple[int, int], dict[str, Any]] = {
    (101, 1): {"description": "Adds the login form and moves sessions to app/auth.py.", "milestone": "v1.0"},
    (101, 2): {"description": "Closes #3."},
    (101, 3): {"detailed_merge_status": "draft_status"},
    (101, 4): {"detailed_merge_status": "ci_must_pass"},
    (101, 6): {
        "description": "Requests hung forever; add a 30 s timeout. Also fixes a KeyError on retry.",
        "target_branch": "release/1.0",
        "merge_status": "cannot_be_merged",
        "detailed_merge_status": "conflict",
        "has_conflicts": True,
    },
    (104, 1): {"description": "Nobody but bob."},
}


def merge_request_row(
    world: World, pid: int, iid: int, title: str, author: str, source: str, state: str,
    assignees: str, reviewers: str, labels: str, day: int, pipeline: str | None,
) -> dict[str, Any]:  # fmt: skip
    """GitLab's single-MR JSON (doc/api/merge_requests.md#get-single-mr) for one seed row."""
    full = world.projects[pid]["path_with_namespace"]
    sha = f"{pid:04d}{iid:04d}".ljust(40, "a")
    created, updated = f"2024-04-{iid:02d}T10:00:00.000Z", f"2024-04-{day:02d}T16:00:00.000Z"
    user, merged, closed = _user(world, author), state == "merged", state == "closed"
    people = [_user(world, name) for name in assignees.split(",") if name]
    extra = dict(EXTRAS.get((pid, iid), {}))
    milestone = extra.pop("milestone", None)
    return {
        **dict.fromkeys(("merge_after", "squash_commit_sha", "discussion_locked", "approvals_before_merge")),
        **dict.fromkeys(("imported", "merge_when_pipeline_succeeds", "force_remove_source_branch", "squash",
                         "squash_on_merge", "has_conflicts", "subscribed", "first_contribution"), False),
        "merge_error": None,
        "id": world.next_id(), "iid": iid, "project_id": pid, "title": title, "description": "", "state": state,
        "imported_from": "none", "created_at": created, "updated_at": updated, "prepared_at": created,
        "merged_by": user if merged else None, "merge_user": user if merged else None,
        "merged_at": updated if merged else None, "merge_commit_sha": sha[::-1] if merged else None,
        "closed_by": user if closed else None, "closed_at": updated if closed else None,
        "target_branch": "main", "source_branch": source, "source_project_id": pid, "target_project_id": pid,
        "user_notes_count": iid % 3, "upvotes": 0, "downvotes": 0,
        "author": user, "assignees": people, "assignee": people[0] if people else None,
        "reviewers": [_user(world, name) for name in reviewers.split(",") if name],
        "labels": [label for label in labels.split(",") if label],
        "draft": title.startswith("Draft:"), "work_in_progress": title.startswith("Draft:"),
        "milestone": _milestone(pid, milestone, full) if milestone else None,
        "merge_status": "can_be_merged", "detailed_merge_status": "not_open" if merged or closed else "mergeable",
        "sha": sha, "should_remove_source_branch": True, "blocking_discussions_resolved": True,
        "reference": f"!{iid}", "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"{full}!{iid}"},
        "web_url": f"{SIM_URL}/{full}/-/merge_requests/{iid}",
        "time_stats": {"time_estimate": 0, "total_time_spent": 0,
                       "human_time_estimate": None, "human_total_time_spent": None},
        "task_completion_status": {"count": 0, "completed_count": 0},
        # Detail-only fields (GET /projects/:id/merge_requests/:merge_request_iid):
        "changes_count": "0", "latest_build_started_at": updated if pipeline else None,
        "latest_build_finished_at": None, "first_deployed_to_production_at": None,
        "pipeline": _pipeline(pid, iid, sha, pipeline, full, updated, detail=False),
        "head_pipeline": _pipeline(pid, iid, sha, pipeline, full, updated, detail=True),
        "diff_refs": {"base_sha": "b" * 40, "head_sha": sha, "start_sha": "b" * 40},
        **extra,
    }  # fmt: skip


def _user(world: World, username: str) -> dict[str, Any]:
    found = world.by_username(username)
    assert found is not None, username
    return world.user_ref(found["id"])


def _pipeline(
    pid: int, iid: int, sha: str, status: str | None, full: str, when: str, *, detail: bool
) -> dict[str, Any] | None:
    if status is None:
        return None
    number = 9000 + pid * 10 + iid
    short = {
        "id": number, "iid": iid, "project_id": pid, "sha": sha, "ref": f"refs/merge-requests/{iid}/head",
        "status": status, "source": "merge_request_event", "created_at": when, "updated_at": when,
        "web_url": f"{SIM_URL}/{full}/-/pipelines/{number}",
    }  # fmt: skip
    if not detail:
        return short
    return {
        **short, "before_sha": "0" * 40, "tag": False, "yaml_errors": None, "started_at": when,
        "finished_at": None if status == "running" else when, "duration": 30, "coverage": None,
        "detailed_status": {"icon": f"status_{status}", "text": status, "label": status, "group": status},
    }  # fmt: skip


def _milestone(pid: int, title: str, full: str) -> dict[str, Any]:
    return {
        "id": 500 + pid, "iid": 1, "project_id": pid, "title": title, "description": "", "state": "active",
        "due_date": None, "web_url": f"{SIM_URL}/{full}/-/milestones/1",
    }  # fmt: skip
