"""The merge checks behind a simulated merge request's detailed_merge_status (doc/api/merge_requests.md#merge-status).

The simulator derives some checks from its own state (draft title, conflicts, open threads, approvals,
the head pipeline). The rest it does not model (external status checks, security policies, Jira, path
locks, MR dependencies, a merge_after time, a rebase the project needs...): a test makes one fail with
POST /_sim/merge_checks {"project_id", "iid", "status", "failing"}, and detailed_merge_status then
reports it where GitLab's order puts it. Not a router area: merge_requests uses it.
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.world import World

# Every value doc/api/merge_requests.md lists for detailed_merge_status.
DETAILED_MERGE_STATUSES = frozenset({
    "approvals_syncing", "checking", "ci_must_pass", "ci_still_running", "commits_status", "conflict",
    "discussions_not_resolved", "draft_status", "jira_association_missing", "locked_lfs_files", "locked_paths",
    "merge_request_blocked", "merge_time", "mergeable", "need_rebase", "not_approved", "not_open", "preparing",
    "requested_changes", "security_policy_pipeline_check", "security_policy_violations", "status_checks_must_pass",
    "title_regex", "unchecked",
})  # fmt: skip
# Still being worked out by GitLab: reported before any failing check.
TRANSIENT = ("preparing", "checking", "unchecked", "approvals_syncing")
# The blocking checks, first failing first. Derived ones are computed by merge_requests.detailed_status.
ORDER = (
    "draft_status", "commits_status", "conflict", "need_rebase", "discussions_not_resolved", "requested_changes",
    "not_approved", "merge_request_blocked", "ci_must_pass", "ci_still_running", "security_policy_pipeline_check",
    "status_checks_must_pass", "jira_association_missing", "title_regex", "locked_paths", "locked_lfs_files",
    "security_policy_violations", "merge_time",
)  # fmt: skip
# What auto-merge (merge when checks pass) may wait for; GitLab 17.10 and older wait for a pipeline only.
AUTO_MERGEABLE = frozenset({
    "ci_still_running", "not_approved", "discussions_not_resolved", "merge_request_blocked",
    "status_checks_must_pass", "merge_time", "security_policy_pipeline_check",
})  # fmt: skip
AUTO_MERGEABLE_BEFORE_17_11 = frozenset({"ci_still_running", "not_approved", "discussions_not_resolved"})


def failing(world: World, mr: dict[str, Any]) -> set[str]:
    """The checks a test set failing on this merge request."""
    key = (mr["project_id"], mr["iid"])
    return {row["status"] for row in world.table("mr_checks") if (row["project_id"], row["iid"]) == key}


def set_check(world: World, project_id: int, iid: int, status: str, failing: bool = True) -> None:
    from tests.gitlab_sim.areas.merge_requests import find_merge_request, refresh

    if status not in DETAILED_MERGE_STATUSES - {"mergeable", "not_open"}:
        raise ValueError(f"not a documented merge check: {status!r}")
    rows = world.table("mr_checks")
    rows[:] = [r for r in rows if (r["project_id"], r["iid"], r["status"]) != (project_id, iid, status)]
    if failing:
        rows.append({"project_id": project_id, "iid": iid, "status": status})
    mr = find_merge_request(world, project_id, iid)
    if mr is None:
        raise ValueError(f"no merge request !{iid} in project {project_id}")
    refresh(world, mr)


def first_failing(derived: set[str], set_by_test: set[str]) -> str:
    for status in TRANSIENT:
        if status in set_by_test:
            return status
    both = derived | set_by_test
    return next((status for status in ORDER if status in both), "mergeable")
