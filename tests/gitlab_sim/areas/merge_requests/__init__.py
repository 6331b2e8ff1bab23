"""Simulated GitLab API: merge requests (doc/api/merge_requests.md).

Rows: "merge_requests" holds GitLab's single-MR JSON (list responses drop the detail-only fields);
"mr_diffs" holds one row per changed file, keyed by project_id and iid, in diff order.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.merge_requests.across import list_all_merge_requests, list_group_merge_requests
from tests.gitlab_sim.areas.merge_requests.approvals import approve, get_approvals, unapprove
from tests.gitlab_sim.areas.merge_requests.belongs import (
    list_closes_issues,
    list_commit_merge_requests,
    list_commits,
    list_participants,
    list_pipelines,
)
from tests.gitlab_sim.areas.merge_requests.reading import (
    DETAIL_ONLY,
    find_merge_request,
    get_merge_request,
    list_diffs,
    list_merge_requests,
    merge_request_in_path,
)
from tests.gitlab_sim.areas.merge_requests.seeded import seed
from tests.gitlab_sim.areas.merge_requests.states import can_merge, detail, mr_commits, refresh
from tests.gitlab_sim.areas.merge_requests.writing import (
    create_merge_request,
    merge_merge_request,
    rebase_merge_request,
    update_merge_request,
)
from tests.gitlab_sim.http import Router

__all__ = [
    "DETAIL_ONLY",
    "can_merge",
    "detail",
    "find_merge_request",
    "merge_request_in_path",
    "mr_commits",
    "refresh",
    "register",
    "seed",
]


def register(router: Router) -> None:
    mr = "/projects/:id/merge_requests/:merge_request_iid"
    router.route("GET", "/merge_requests")(list_all_merge_requests)
    router.route("GET", "/groups/:id/merge_requests")(list_group_merge_requests)
    router.route("GET", "/projects/:id/merge_requests")(list_merge_requests)
    router.route("POST", "/projects/:id/merge_requests")(create_merge_request)
    router.route("GET", mr)(get_merge_request)
    router.route("PUT", mr)(update_merge_request)
    router.route("GET", f"{mr}/diffs")(list_diffs)
    router.route("PUT", f"{mr}/merge")(merge_merge_request)
    router.route("PUT", f"{mr}/rebase")(rebase_merge_request)
    router.route("GET", f"{mr}/approvals")(get_approvals)
    router.route("POST", f"{mr}/approve")(approve)
    router.route("POST", f"{mr}/unapprove")(unapprove)
    router.route("GET", f"{mr}/commits")(list_commits)
    router.route("GET", f"{mr}/pipelines")(list_pipelines)
    router.route("GET", f"{mr}/closes_issues")(list_closes_issues)
    router.route("GET", f"{mr}/participants")(list_participants)
    router.route("GET", "/projects/:id/repository/commits/:sha/merge_requests")(list_commit_merge_requests)
