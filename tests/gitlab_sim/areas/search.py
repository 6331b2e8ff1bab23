"""Simulated GitLab API: search (being written)."""

from __future__ import annotations

from tests.gitlab_sim.http import Router
from tests.gitlab_sim.world import World


def register(router: Router) -> None:
    pass


def seed(world: World) -> None:
    pass
