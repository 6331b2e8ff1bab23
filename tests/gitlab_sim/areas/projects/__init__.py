"""Simulated GitLab API: projects, forks, stars, languages and project members.

doc/api/projects.md, doc/api/project_forks.md, doc/api/members.md; roles as doc/user/permissions.md gives
them: Maintainers update a project and manage its members, Owners archive and delete it.

State: `world.projects`, `world.members` (project id → user id → role) and `world.starred`. A project created
in a group gets its group's members copied into `world.members` (so every area sees the inherited roles);
`world.extra["inherited"]` remembers which (project, user) pairs are inherited rather than direct, and
`world.extra["member_meta"]` the creation date, creator and expiry of direct memberships.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.projects.forks import fork_project, list_forks
from tests.gitlab_sim.areas.projects.projects import (
    ORDERS,
    archive_project,
    create_project,
    delete_project,
    get_project,
    languages,
    list_projects,
    star_project,
    update_project,
)
from tests.gitlab_sim.areas.projects.rules import SIMPLE_FIELDS, project_with_role, readable_project, shown
from tests.gitlab_sim.http import Router
from tests.gitlab_sim.world import World

__all__ = [
    "ORDERS",
    "SIMPLE_FIELDS",
    "project_with_role",
    "readable_project",
    "register",
    "seed",
    "shown",
]


def register(router: Router) -> None:
    router.route("GET", "/projects")(list_projects)
    router.route("POST", "/projects")(create_project)
    router.route("GET", "/projects/:id")(get_project)
    router.route("PUT", "/projects/:id")(update_project)
    router.route("DELETE", "/projects/:id")(delete_project)
    router.route("POST", "/projects/:id/fork")(fork_project)
    router.route("GET", "/projects/:id/forks")(list_forks)
    for verb in ("archive", "unarchive"):
        router.route("POST", f"/projects/:id/{verb}")(archive_project)
    for verb in ("star", "unstar"):
        router.route("POST", f"/projects/:id/{verb}")(star_project)
    router.route("GET", "/projects/:id/languages")(languages)


def seed(world: World) -> None:
    world.extra["inherited"] = set()
    world.extra["member_meta"] = {}
