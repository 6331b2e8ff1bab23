"""Simulated GitLab API: the repository's tree, files, blame, commits, compare and contributors.

doc/api/repositories.md, doc/api/repository_files.md, doc/api/commits.md; the error bodies as
lib/api/files.rb, lib/api/commits.rb, app/services/files/* and Gitaly's index errors give them.

State, shared with the branches and commits areas (keep the shape):
- `world.table("commits")`: GitLab commit JSON (id, short_id, title, message, author_*, committer_*,
  *_date, created_at, parent_ids, trailers, extended_trailers, web_url) plus `project_id` and `paths`
  (the paths the commit touched); `public_commit()` strips those two.
- `world.table("branches")`: {project_id, name, head}.
- `world.table("protected_branches")`: {project_id, id, name (may hold `*`), push_access_level,
  merge_access_level, allow_force_push}; `protections()` and `can_push()` read them.
- `world.table("tags")` (branches area): {project_id, name, commit, message, created_at, tag_id}.
- `world.files[project][branch][path] = bytes`: each branch's files at its head.
- `world.extra["trees"][sha] = {path: bytes}`: the files at each commit; `tree_at()` falls back to a
  branch's files for a head and to the first parent otherwise.
To add a commit on a branch (moving it and its files), call `commit_files()`.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.repository.model import (
    branches_of,
    can_push,
    code_project,
    commit_files,
    commits_of,
    diff_stats,
    file_diffs,
    find_branch,
    history,
    protections,
    public_commit,
    push_project,
    resolve,
    tree_at,
)
from tests.gitlab_sim.areas.repository.reading import (
    compare,
    get_blame,
    get_file,
    get_raw_file,
    list_commits,
    list_contributors,
    list_tree,
)
from tests.gitlab_sim.areas.repository.seeded import CHANGELOG_LINES, PNG, SQLITE, seed
from tests.gitlab_sim.areas.repository.writing import create_commit, create_file, delete_file, update_file
from tests.gitlab_sim.http import Router

__all__ = [
    "CHANGELOG_LINES",
    "PNG",
    "SQLITE",
    "branches_of",
    "can_push",
    "code_project",
    "commit_files",
    "commits_of",
    "diff_stats",
    "file_diffs",
    "find_branch",
    "history",
    "protections",
    "public_commit",
    "push_project",
    "register",
    "resolve",
    "seed",
    "tree_at",
]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/repository/tree")(list_tree)
    router.route("GET", "/projects/:id/repository/files/:file_path")(get_file)
    router.route("GET", "/projects/:id/repository/files/:file_path/raw")(get_raw_file)
    router.route("GET", "/projects/:id/repository/files/:file_path/blame")(get_blame)
    router.route("POST", "/projects/:id/repository/files/:file_path")(create_file)
    router.route("PUT", "/projects/:id/repository/files/:file_path")(update_file)
    router.route("DELETE", "/projects/:id/repository/files/:file_path")(delete_file)
    router.route("GET", "/projects/:id/repository/commits")(list_commits)
    router.route("POST", "/projects/:id/repository/commits")(create_commit)
    router.route("GET", "/projects/:id/repository/compare")(compare)
    router.route("GET", "/projects/:id/repository/contributors")(list_contributors)
