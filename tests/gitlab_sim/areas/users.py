"""Simulated GitLab API: users (doc/api/users.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.http import Call, Router, error, not_found
from tests.gitlab_sim.world import World


def register(router: Router) -> None:
    router.route("GET", "/user")(current_user)
    router.route("GET", "/users/:id")(get_user)


def seed(world: World) -> None:
    pass


async def current_user(call: Call) -> Response:
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    return JSONResponse(call.world.users[call.user_id])


async def get_user(call: Call) -> Response:
    user = call.world.users.get(int(call.params["id"])) if call.params["id"].isdigit() else None
    if user is None:
        return not_found("User")
    public = {k: v for k, v in user.items() if k not in ("email", "is_admin")}
    return JSONResponse(public)
