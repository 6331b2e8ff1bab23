"""Simulated GitLab API: releases and their asset links (doc/api/releases/index.md, doc/api/releases/links.md).

Behaviour as lib/api/releases.rb, lib/api/release/links.rb and app/services/releases/* give it.
State: `world.table("releases")` (the stored attributes; the JSON is built by `render`),
`world.table("release_links")` and `world.table("release_tags")`: the tags this area knows of (seeded,
or created by a release made from `ref`). The branches area's `tags` and `protected_tags` tables are
read too when they exist (a seeded tag of the same name wins; rows are stored with `tag_name`).
Seed: acme/app has v1.0.0 (two links), v1.1.0 and the upcoming v2.0.0, plus the tag v1.2.0 without a
release; acme/website has v2024.1; bob/secret has v0.1.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.releases.links import create_link, delete_link, get_link, list_links
from tests.gitlab_sim.areas.releases.releases import (
    create_release,
    delete_release,
    get_release,
    list_releases,
    update_release,
)
from tests.gitlab_sim.areas.releases.seeded import seed
from tests.gitlab_sim.http import Router

__all__ = ["register", "seed"]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/releases")(list_releases)
    router.route("POST", "/projects/:id/releases")(create_release)
    router.route("GET", "/projects/:id/releases/:tag_name")(get_release)
    router.route("PUT", "/projects/:id/releases/:tag_name")(update_release)
    router.route("DELETE", "/projects/:id/releases/:tag_name")(delete_release)
    router.route("GET", "/projects/:id/releases/:tag_name/assets/links")(list_links)
    router.route("POST", "/projects/:id/releases/:tag_name/assets/links")(create_link)
    router.route("GET", "/projects/:id/releases/:tag_name/assets/links/:link_id")(get_link)
    router.route("DELETE", "/projects/:id/releases/:tag_name/assets/links/:link_id")(delete_link)
