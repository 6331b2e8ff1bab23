"""The releases area's seed."""

from __future__ import annotations

from tests.gitlab_sim.areas.releases.links import add_link
from tests.gitlab_sim.areas.releases.lookups import Release, tag_sha
from tests.gitlab_sim.areas.repository import commits_of
from tests.gitlab_sim.world import World


# --- seed ------------------------------------------------------------------------------------------
def seed(world: World) -> None:
    app = [c["id"] for c in sorted(commits_of(world, 101).values(), key=lambda c: c["committed_date"])]
    tags = world.table("release_tags")
    # A tag the branches area already seeded is used as it is; the others are this area's own.
    for pid, name, sha in (
        (101, "v1.0.0", app[3]),
        (101, "v1.1.0", app[6]),
        (101, "v1.2.0", app[6]),
        (101, "v2.0.0", app[6]),
        (102, "v2024.1", next(iter(commits_of(world, 102)))),
        (104, "v0.1", next(iter(commits_of(world, 104)))),
    ):
        if tag_sha(world, pid, name) is None:
            tags.append({"project_id": pid, "name": name, "target": sha})
    first = _release(world, 501, 101, "v1.0.0", "Version 1.0.0", 1, "2024-02-16T09:00:00.000Z", [201])
    first["description"] = "## Highlights\n\n- Deploy script runs on every tag\n- Text utilities"
    runbook = {"id": 601, "name": "Runbook", "url": "https://wiki.acme.example/runbooks/app", "link_type": "runbook"}
    binary = {"id": 602, "name": "app-linux-amd64", "url": "https://downloads.acme.example/app-1.0.0"}
    binary |= {"direct_asset_path": "/bin/app-linux-amd64", "link_type": "package"}
    add_link(world, first, runbook, at="2024-02-16T09:01:00.000Z")
    add_link(world, first, binary, at="2024-02-16T09:02:00.000Z")
    second = _release(world, 502, 101, "v1.1.0", "Version 1.1.0", 2, "2024-03-02T12:00:00.000Z", [202])
    second["description"] = "Setup steps documented; greeting punctuation fixed."
    _release(world, 503, 101, "v2.0.0", "Version 2.0.0", 1, "2030-01-01T00:00:00.000Z", [])
    _release(world, 504, 102, "v2024.1", "Website 2024.1", 1, "2024-02-20T08:00:00.000Z", [])
    _release(world, 505, 104, "v0.1", "Secret v0.1", 2, "2024-02-05T08:00:00.000Z", [])


def _release(
    world: World, rid: int, pid: int, tag: str, name: str, author: int, released: str, milestones: list[int]
) -> Release:
    row = {
        "id": rid,
        "project_id": pid,
        "tag_name": tag,
        "sha": tag_sha(world, pid, tag),
        "name": name,
        "description": None,
        "author_id": author,
        "created_at": min(released, "2024-03-10T00:00:00.000Z"),
        "released_at": released,
        "milestone_ids": milestones,
    }
    world.table("releases").append(row)
    return row
