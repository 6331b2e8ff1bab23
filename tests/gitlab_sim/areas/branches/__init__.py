"""Simulated GitLab API: branches, tags and their protection.

doc/api/branches.md, doc/api/protected_branches.md, doc/api/tags.md, doc/api/protected_tags.md; the
errors as lib/api/branches.rb, lib/api/protected_branches.rb, lib/api/tags.rb and
app/services/{branches,tags}/* give them. Branch and commit rows are the repository area's; this
area adds `world.table("tags")` ({project_id, name, commit, message, created_at, tag_id}: `message`,
`created_at` and `tag_id` are None for a lightweight tag) and `world.table("protected_tags")`
({project_id, id, name, create_access_level}), and seeds `protected_branches`.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.branches.branches import (
    create_branch,
    delete_branch,
    delete_merged_branches,
    get_branch,
    list_branches,
    remove_branch,
)
from tests.gitlab_sim.areas.branches.protections import (
    list_protected_branches,
    list_protected_tags,
    protect_branch,
    protect_tag,
    unprotect_branch,
    unprotect_tag,
)
from tests.gitlab_sim.areas.branches.seeded import seed
from tests.gitlab_sim.areas.branches.tags import create_tag, delete_tag, get_tag, list_tags
from tests.gitlab_sim.http import Router

__all__ = ["register", "remove_branch", "seed"]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/repository/branches")(list_branches)
    router.route("GET", "/projects/:id/repository/branches/:branch")(get_branch)
    router.route("POST", "/projects/:id/repository/branches")(create_branch)
    router.route("DELETE", "/projects/:id/repository/branches/:branch")(delete_branch)
    router.route("DELETE", "/projects/:id/repository/merged_branches")(delete_merged_branches)
    router.route("GET", "/projects/:id/protected_branches")(list_protected_branches)
    router.route("POST", "/projects/:id/protected_branches")(protect_branch)
    router.route("DELETE", "/projects/:id/protected_branches/:name")(unprotect_branch)
    router.route("GET", "/projects/:id/repository/tags")(list_tags)
    router.route("GET", "/projects/:id/repository/tags/:tag_name")(get_tag)
    router.route("POST", "/projects/:id/repository/tags")(create_tag)
    router.route("DELETE", "/projects/:id/repository/tags/:tag_name")(delete_tag)
    router.route("GET", "/projects/:id/protected_tags")(list_protected_tags)
    router.route("POST", "/projects/:id/protected_tags")(protect_tag)
    router.route("DELETE", "/projects/:id/protected_tags/:name")(unprotect_tag)
