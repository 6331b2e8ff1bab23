"""Merging a merge request: why GitLab would refuse (explained before it is asked, by REST
detailed_merge_status), merging now or automatically when checks pass, and rebasing
(doc/api/merge_requests.md#merge-a-merge-request, #merge-status, #rebase-a-merge-request)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.errors import GitLabRejected
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, tool
from mcp_bridge.shaping import pick

MERGED_FIELDS = (
    "iid", "state", "merge_when_pipeline_succeeds", "merge_user", "merged_at", "merge_commit_sha",
    "squash_commit_sha", "detailed_merge_status", "web_url",
)  # fmt: skip
# Why GitLab refuses a merge, by REST detailed_merge_status (doc/api/merge_requests.md#merge-status; the
# GraphQL enum names differ), and what to do. Transient states (checking...) are not refusals: GitLab is asked.
BLOCKERS = {
    "draft_status": "it is a draft. Mark it ready with update_merge_request(draft=false), then merge.",
    "conflict": "it has merge conflicts with {target}. See them with get_merge_request_conflicts; resolve them "
    "(rebase or merge {target} locally, fix, push), then merge.",
    "discussions_not_resolved": "unresolved threads block it. Resolve them (or pass auto_merge=true to merge "
    "once they are).",
    "not_approved": "it lacks required approvals (see get_merge_request_approvals), or pass auto_merge=true.",
    "ci_must_pass": "its pipeline must succeed first (latest: {pipeline}). Fix it or rerun it, then merge.",
    "ci_still_running": "its pipeline is still running (latest: {pipeline}). Wait (wait_for_pipeline), or pass "
    "auto_merge=true to merge when it succeeds.",
    "need_rebase": "the project merges only fast-forward: rebase it with rebase_merge_request, then merge.",
    "commits_status": "its source branch is missing or has no commits.",
    "merge_request_blocked": "it is blocked by another merge request that must merge first (or pass auto_merge=true).",
    "requested_changes": "a reviewer requested changes (see list_merge_request_reviewers); address them and ask "
    "for a new review.",
    "jira_association_missing": "its title or description must mention a Jira issue.",
    "title_regex": "its title does not match the project's required pattern.",
    "locked_paths": "it changes paths locked by another user.",
    "locked_lfs_files": "it changes LFS files locked by another user.",
    "status_checks_must_pass": "external status checks have not passed yet (or pass auto_merge=true).",
    "security_policy_violations": "security policies block it.",
    "security_policy_pipeline_check": "the pipelines that security policies require for its latest commit have "
    "not all succeeded (or pass auto_merge=true).",
    "merge_time": "it may not merge before its merge_after time. Pass auto_merge=true to merge then.",
    "not_open": "it is not open.",
}
TRANSIENT = frozenset({"mergeable", "checking", "unchecked", "preparing", "approvals_syncing"})
# What auto-merge waits for (lib/gitlab auto-merge: the skippable mergeability checks).
WAITS_FOR = frozenset({
    "ci_still_running", "not_approved", "discussions_not_resolved", "merge_request_blocked",
    "status_checks_must_pass", "merge_time", "security_policy_pipeline_check",
})  # fmt: skip


def _merge_blocker(mr: dict[str, Any], sha: str | None, auto_merge: bool) -> str | None:
    """Why this merge would fail, worded for the model, or None when GitLab should be asked."""
    status, pipeline = mr.get("detailed_merge_status"), mr.get("head_pipeline") or mr.get("pipeline") or {}
    if mr.get("state") != "opened":
        merged = f" (merge commit {mr.get('merge_commit_sha')})" if mr.get("state") == "merged" else ""
        return f"it is {mr.get('state')}{merged}; only open merge requests can be merged."
    if not (mr.get("user") or {}).get("can_merge", True):
        return (
            f"you may not merge into {mr.get('target_branch')}: it takes the Developer role, and a protected "
            "branch takes a role allowed to merge there (often Maintainer)."
        )
    if sha and sha != mr.get("sha"):
        return (
            f"its source branch moved: the head is now {mr.get('sha')}, not {sha}. Review the new commits "
            f"(list_merge_request_commits), then merge with sha={mr.get('sha')}."
        )
    if status is None or status in TRANSIENT:
        return None
    if auto_merge and status in WAITS_FOR:
        return None
    reason = BLOCKERS.get(str(status), f"GitLab reports detailed_merge_status={status}.")
    return reason.format(target=mr.get("target_branch"), pipeline=pipeline.get("status", "none"))


@tool(
    DESTRUCTIVE,
    "merge_requests",
    routes=(
        "GET /projects/:id/merge_requests/:merge_request_iid",
        "PUT /projects/:id/merge_requests/:merge_request_iid/merge",
    ),
)
async def merge_merge_request(
    project: ProjectRef,
    iid: Iid,
    sha: Annotated[str | None, Field(description="Head SHA you reviewed; the merge fails if the branch moved.")] = None,
    squash: Annotated[bool | None, Field(description="Squash the commits into one.")] = None,
    should_remove_source_branch: Annotated[bool | None, Field(description="Delete the source branch.")] = None,
    auto_merge: Annotated[
        bool, Field(description="Merge once the pipeline succeeds and checks pass, instead of now.")
    ] = False,
) -> dict[str, Any]:
    """Merge a merge request now (or set it to merge automatically when checks pass). Pass sha = the head
    you reviewed. When it cannot merge, the error says why (draft, conflicts, pipeline, approvals...)."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}"
    what = f"Merge request !{iid} in {project}"
    # GitLab's refusals (405/422, doc/api/merge_requests.md#merge-a-merge-request) do not say why: ask first.
    mr = await gitlab().get(path, what=what)
    blocker = _merge_blocker(mr, sha, auto_merge)
    if blocker:
        raise GitLabRejected(f"{what} cannot be merged: {blocker}", 405)
    body = {"sha": sha, "squash": squash, "should_remove_source_branch": should_remove_source_branch}
    # GitLab 17.10 and older ignore auto_merge (and merge at once); newer ones OR the two.
    body |= {"auto_merge": auto_merge or None, "merge_when_pipeline_succeeds": auto_merge or None}
    data = await gitlab().put(f"{path}/merge", what=what, json=body)
    result = pick(data, MERGED_FIELDS)
    if data.get("state") != "merged" and data.get("merge_when_pipeline_succeeds"):
        result["hint"] = "Set to merge automatically when the pipeline succeeds and checks pass."
    return result


@tool(DESTRUCTIVE, "merge_requests", routes=("PUT /projects/:id/merge_requests/:merge_request_iid/rebase",))
async def rebase_merge_request(
    project: ProjectRef,
    iid: Iid,
    skip_ci: Annotated[bool, Field(description="Do not start a pipeline for the rebased commits.")] = False,
) -> dict[str, Any]:
    """Rebase the source branch onto the target branch (rewrites the branch). Runs in the background:
    check get_merge_request afterwards (merge_error is set when it fails, e.g. on conflicts)."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}/rebase"
    data = await gitlab().put(path, what=f"Merge request !{iid} in {project}", json={"skip_ci": skip_ci or None})
    hint = "GitLab rebases in the background; read get_merge_request in a few seconds for the new sha or merge_error."
    return {"iid": iid, "rebase_in_progress": bool(data.get("rebase_in_progress")), "hint": hint}
