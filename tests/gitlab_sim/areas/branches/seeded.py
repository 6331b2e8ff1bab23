"""The branches area's seed: protections and tags."""

from __future__ import annotations

import hashlib

from tests.gitlab_sim.areas.repository import (
    history,
)
from tests.gitlab_sim.world import World


# --- seed -----------------------------------------------------------------------------------------
def seed(world: World) -> None:
    """Protected main branches (maintainers push and merge); acme/app's tags v0.1.0 (lightweight)
    and v1.0.0 (annotated), with `v*` protected; acme/website's v1.0."""
    for pid in (101, 102, 104):
        world.table("protected_branches").append(
            {
                "project_id": pid,
                "id": world.next_id(),
                "name": "main",
                "push_access_level": 40,
                "merge_access_level": 40,
                "allow_force_push": False,
            }
        )
    heads = {(b["project_id"], b["name"]): b["head"] for b in world.table("branches")}
    app = [c["id"] for c in reversed(history(world, 101, heads[(101, "main")]))]
    _tag(world, 101, "v0.1.0", app[1])
    _tag(world, 101, "v1.0.0", app[-1], "Release 1.0.0", "2024-03-02T12:00:00.000+00:00")
    _tag(world, 102, "v1.0", heads[(102, "main")])
    world.table("protected_tags").append(
        {"project_id": 101, "id": world.next_id(), "name": "v*", "create_access_level": 40}
    )


def _tag(world: World, pid: int, name: str, sha: str, message: str | None = None, when: str | None = None) -> None:
    tag_id = hashlib.sha1(f"{pid}\n{name}".encode(), usedforsecurity=False).hexdigest() if message else None
    row = {"project_id": pid, "name": name, "commit": sha, "message": message, "created_at": when, "tag_id": tag_id}
    world.table("tags").append(row)
