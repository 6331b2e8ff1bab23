"""Simulated GitLab API: issues, their notes and links (doc/api/issues.md, doc/api/notes.md,
doc/api/issue_links.md), and the merge requests that mention or close them.

Rows are kept in GitLab's JSON shape: world.table("issues"), world.table("notes") (issue notes carry
noteable_type "Issue") and world.table("milestones"); world.table("issue_links") holds
{id, source_id, target_id, link_type relates_to|blocks, created_at, updated_at}.
Seed: 25 issues in acme/app (every 5th closed, #7 and #14 confidential), 3 in acme/website (#2
confidential, #3 locked), 1 in bob/secret, notes on acme/app#1; issues are turned off in alice/notes.
Links of acme/app#1: relates to #2, blocked by #3, relates to bob/secret#1 (hidden from alice).
"""

from __future__ import annotations

from tests.gitlab_sim.areas.issues.across import list_all_issues, list_group_issues
from tests.gitlab_sim.areas.issues.editing import delete_issue, move_issue, update_issue
from tests.gitlab_sim.areas.issues.links import add_link, create_link, delete_link, list_links
from tests.gitlab_sim.areas.issues.mrs import closed_by, related_merge_requests
from tests.gitlab_sim.areas.issues.notes import create_note, list_notes, update_note
from tests.gitlab_sim.areas.issues.reading import (
    can_see,
    create_issue,
    find_issue,
    get_issue,
    list_issues,
    unauthorized,
    visible_issues,
)
from tests.gitlab_sim.areas.issues.rows import add_issue, add_note
from tests.gitlab_sim.areas.issues.seeded import seed
from tests.gitlab_sim.http import Router

__all__ = [
    "add_issue",
    "add_link",
    "add_note",
    "can_see",
    "find_issue",
    "register",
    "seed",
    "unauthorized",
    "visible_issues",
]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/issues")(list_issues)
    router.route("POST", "/projects/:id/issues")(create_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid")(get_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid/notes")(list_notes)
    router.route("POST", "/projects/:id/issues/:issue_iid/notes")(create_note)
    router.route("PUT", "/projects/:id/issues/:issue_iid/notes/:note_id")(update_note)
    router.route("GET", "/issues")(list_all_issues)
    router.route("GET", "/groups/:id/issues")(list_group_issues)
    router.route("PUT", "/projects/:id/issues/:issue_iid")(update_issue)
    router.route("DELETE", "/projects/:id/issues/:issue_iid")(delete_issue)
    router.route("POST", "/projects/:id/issues/:issue_iid/move")(move_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid/links")(list_links)
    router.route("POST", "/projects/:id/issues/:issue_iid/links")(create_link)
    router.route("DELETE", "/projects/:id/issues/:issue_iid/links/:issue_link_id")(delete_link)
    router.route("GET", "/projects/:id/issues/:issue_iid/related_merge_requests")(related_merge_requests)
    router.route("GET", "/projects/:id/issues/:issue_iid/closed_by")(closed_by)
