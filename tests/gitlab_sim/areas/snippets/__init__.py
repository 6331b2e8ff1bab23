"""Simulated GitLab API: project and personal snippets (doc/api/project_snippets.md, doc/api/snippets.md).

Behaviour as lib/api/project_snippets.rb, lib/api/snippets.rb and API::Helpers::SnippetsHelpers give it.
State: `world.table("snippets")`, one row per snippet (`project_id` None for a personal one) with its
files in `_files` ([{"path", "content"}]); `snippets_enabled` on a project turns the feature off.
Seed: acme/app 301-303 (303 has two files; 302 is 600 lines long), acme/website 304 (public) and 305
(private), bob/secret 306; personal 311-312 (alice), 313-314 (bob), 315 (charlie, internal). Snippets
are turned off in alice/notes.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.snippets.personal import (
    create_snippet,
    get_snippet,
    list_my_snippets,
    snippet_file,
    snippet_raw,
)
from tests.gitlab_sim.areas.snippets.project import (
    create_project_snippet,
    delete_project_snippet,
    get_project_snippet,
    list_project_snippets,
    project_snippet_file,
    project_snippet_raw,
    update_project_snippet,
)
from tests.gitlab_sim.areas.snippets.rows import seed
from tests.gitlab_sim.areas.snippets.rules import can_see, render
from tests.gitlab_sim.http import Router

__all__ = ["can_see", "register", "render", "seed"]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/snippets")(list_project_snippets)
    router.route("POST", "/projects/:id/snippets")(create_project_snippet)
    router.route("GET", "/projects/:id/snippets/:snippet_id")(get_project_snippet)
    router.route("PUT", "/projects/:id/snippets/:snippet_id")(update_project_snippet)
    router.route("DELETE", "/projects/:id/snippets/:snippet_id")(delete_project_snippet)
    router.route("GET", "/projects/:id/snippets/:snippet_id/raw")(project_snippet_raw)
    router.route("GET", "/projects/:id/snippets/:snippet_id/files/:ref/:file_path/raw")(project_snippet_file)
    router.route("GET", "/snippets")(list_my_snippets)
    router.route("POST", "/snippets")(create_snippet)
    router.route("GET", "/snippets/:snippet_id")(get_snippet)
    router.route("GET", "/snippets/:snippet_id/raw")(snippet_raw)
    router.route("GET", "/snippets/:snippet_id/files/:ref/:file_path/raw")(snippet_file)
