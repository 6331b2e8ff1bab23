"""Simulated GitLab API: the instance itself (doc/api/version.md), and which GitLab it pretends to be.

The version changes what some endpoints understand: `auto_merge` on merge is read from 17.11 on, and
GitLab 17.10 and older ignore it (they know only `merge_when_pipeline_succeeds`). GITLAB_SIM_VERSION
sets it for the whole process; a test switches it with POST /_sim/version {"version": "17.10"}, and a
reset returns to the process's default.
"""

from __future__ import annotations

import os
import re

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.http import Call, Router
from tests.gitlab_sim.world import World

DEFAULT_VERSION = "18.6"


def register(router: Router) -> None:
    router.route("GET", "/version")(get_version)


def seed(world: World) -> None:
    world.extra["version"] = os.environ.get("GITLAB_SIM_VERSION", DEFAULT_VERSION)


def set_version(world: World, version: str) -> None:
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", version):
        raise ValueError(f"not a GitLab version: {version!r}")
    world.extra["version"] = version


def at_least(world: World, major: int, minor: int) -> bool:
    parts = [int(p) for p in str(world.extra.get("version", DEFAULT_VERSION)).split(".")[:2]]
    return (parts[0], parts[1]) >= (major, minor)


async def get_version(call: Call) -> Response:
    version = str(call.world.extra.get("version", DEFAULT_VERSION))
    full = version if version.count(".") == 2 else f"{version}.0"
    return JSONResponse(
        {"version": f"{full}-ee", "revision": "6a5f1c2e", "kas": {"enabled": False}, "enterprise": True}
    )
