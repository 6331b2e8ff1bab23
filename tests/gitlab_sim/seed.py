"""The simulator's fixed cast and projects; each area adds its own rows in its `seed`.

Users: alice (1), bob (2), charlie (3). Tokens: one per user with scope api, and alice's read-only one.
Projects: acme/app (private: alice maintainer, bob developer), acme/website (public: alice owner),
alice/notes (private: alice), bob/secret (private: bob).
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim import areas
from tests.gitlab_sim.world import DEVELOPER, MAINTAINER, OWNER, SIM_URL, Token, World

TOKENS = {
    "alice": "glpat-alice-0000000000000000",
    "bob": "glpat-bob-00000000000000000000",
    "charlie": "glpat-charlie-000000000000000",
    "alice_read": "glpat-alice-readonly-00000000",
}


def seed() -> World:
    world = World()
    for uid, username, name in (
        (1, "alice", "Alice Liddell"),
        (2, "bob", "Bob Builder"),
        (3, "charlie", "Charlie Day"),
    ):
        world.users[uid] = {
            "id": uid,
            "username": username,
            "name": name,
            "state": "active",
            "locked": False,
            "avatar_url": f"{SIM_URL}/uploads/user/avatar/{uid}/avatar.png",
            "web_url": f"{SIM_URL}/{username}",
            "created_at": f"2024-01-0{uid}T09:00:00.000Z",
            "bio": "",
            "email": f"{username}@example.com",
            "is_admin": False,
            "bot": False,
        }
    world.tokens = {
        TOKENS["alice"]: Token(1),
        TOKENS["bob"]: Token(2),
        TOKENS["charlie"]: Token(3),
        TOKENS["alice_read"]: Token(1, ("read_api",)),
    }
    world.groups[10] = {"id": 10, "name": "Acme", "path": "acme", "full_path": "acme", "visibility": "private"}
    _project(world, 101, "acme", "app", "private", {1: MAINTAINER, 2: DEVELOPER}, "The Acme application")
    _project(world, 102, "acme", "website", "public", {1: OWNER}, "Public website of Acme")
    _project(world, 103, "alice", "notes", "private", {1: OWNER}, "Alice's private notes")
    _project(world, 104, "bob", "secret", "private", {2: OWNER}, "Bob's secret project")
    world.starred.add((1, 102))
    for area in areas.ALL:
        area.seed(world)
    return world


def _project(
    world: World, pid: int, namespace: str, path: str, visibility: str, members: dict[int, int], description: str
) -> None:
    full = f"{namespace}/{path}"
    group = next((g for g in world.groups.values() if g["full_path"] == namespace), None)
    owner = world.by_username(namespace)
    ns: dict[str, Any] = {
        "id": group["id"] if group else owner["id"] if owner else 0,
        "name": group["name"] if group else namespace,
        "path": namespace,
        "kind": "group" if group else "user",
        "full_path": namespace,
    }
    world.projects[pid] = {
        "id": pid,
        "description": description,
        "name": path.capitalize(),
        "name_with_namespace": f"{ns['name']} / {path.capitalize()}",
        "path": path,
        "path_with_namespace": full,
        "created_at": "2024-02-01T10:00:00.000Z",
        "default_branch": "main",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@gitlab.sim:{full}.git",
        "http_url_to_repo": f"{SIM_URL}/{full}.git",
        "web_url": f"{SIM_URL}/{full}",
        "readme_url": f"{SIM_URL}/{full}/-/blob/main/README.md",
        "avatar_url": None,
        "forks_count": 0,
        "star_count": 1 if pid == 102 else 0,
        "last_activity_at": f"2024-03-{pid - 100:02d}T12:00:00.000Z",
        "namespace": ns,
        "visibility": visibility,
        "archived": False,
        "empty_repo": False,
        "open_issues_count": 0,
        "issues_enabled": True,
        "merge_requests_enabled": True,
        "jobs_enabled": True,
        "wiki_enabled": True,
        "creator_id": next(iter(members)),
    }
    world.members[pid] = dict(members)
