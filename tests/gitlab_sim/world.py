"""The simulator's state: users, tokens, groups, projects and what lives in them, as GitLab JSON."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# GitLab access levels (doc/api/access_requests.md#valid-access-levels)
GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 20, 30, 40, 50
SIM_URL = "http://gitlab.sim"  # web_url base used in payloads


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Token:
    user_id: int
    scopes: tuple[str, ...] = ("api",)
    expires_at: float | None = None  # epoch seconds; None for personal access tokens
    client_id: str | None = None  # the OAuth application that got it

    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= time.time()


@dataclass
class World:
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    projects: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, dict[int, int]] = field(default_factory=dict)  # project id -> user id -> level
    starred: set[tuple[int, int]] = field(default_factory=set)  # (user id, project id)
    # Everything else, by kind: "issues", "notes", "merge_requests", "pipelines", "jobs", ...
    # Each area module of the simulator owns its kinds and their shape.
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[int, dict[str, dict[str, bytes]]] = field(default_factory=dict)  # project -> ref -> path -> bytes
    extra: dict[str, Any] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def next_id(self) -> int:
        return next(self._ids)

    def table(self, kind: str) -> list[dict[str, Any]]:
        return self.rows.setdefault(kind, [])

    def user_ref(self, user_id: int) -> dict[str, Any]:
        """The short user object GitLab embeds in other objects (author, assignee…)."""
        u = self.users[user_id]
        keys = ("id", "username", "name", "state", "avatar_url", "web_url")
        return {k: u[k] for k in keys}

    def by_username(self, username: str) -> dict[str, Any] | None:
        return next((u for u in self.users.values() if u["username"] == username), None)

    # --- visibility ------------------------------------------------------------------------
    def access_level(self, user_id: int | None, project_id: int) -> int:
        if user_id is None:
            return 0
        return self.members.get(project_id, {}).get(user_id, 0)

    def can_read(self, user_id: int | None, project: dict[str, Any]) -> bool:
        if project["visibility"] == "public":
            return True
        if project["visibility"] == "internal":
            return user_id is not None
        return self.access_level(user_id, project["id"]) >= GUEST

    def find_project(self, ref: str) -> dict[str, Any] | None:
        """By numeric id or full path (GitLab accepts both, the path URL-encoded)."""
        if ref.isdigit():
            return self.projects.get(int(ref))
        return next((p for p in self.projects.values() if p["path_with_namespace"] == ref), None)
