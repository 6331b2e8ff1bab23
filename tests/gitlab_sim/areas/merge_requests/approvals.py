"""Approvals: the state, approve and unapprove (doc/api/merge_request_approvals.md)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.merge_requests.reading import merge_request_in_path
from tests.gitlab_sim.areas.merge_requests.states import approval_state, refresh
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    not_found,
)
from tests.gitlab_sim.world import DEVELOPER


async def get_approvals(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    return JSONResponse(approval_state(call.world, mr, call.user_id))


async def approve(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world = call.world
    if world.access_level(call.user_id, mr["project_id"]) < DEVELOPER:
        return forbidden()
    if call.arg("sha") is not None and call.arg("sha") != mr["sha"]:
        return error(409, f"SHA does not match HEAD of source branch: {mr['sha']}")
    if not approval_state(world, mr, call.user_id)["user_can_approve"]:
        return error(401, "401 Unauthorized")  # MergeRequests::ApprovalService said no
    world.table("mr_approvals").append({"project_id": mr["project_id"], "iid": mr["iid"], "user_id": call.user_id})
    refresh(world, mr)
    return JSONResponse(approval_state(world, mr, call.user_id), status_code=201)


async def unapprove(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world, key = call.world, (mr["project_id"], mr["iid"], call.user_id)
    if world.access_level(call.user_id, mr["project_id"]) < DEVELOPER:
        return forbidden()
    rows = world.table("mr_approvals")
    mine = next((a for a in rows if (a["project_id"], a["iid"], a["user_id"]) == key), None)
    if mine is None:
        return not_found()
    rows.remove(mine)
    refresh(world, mr)
    return JSONResponse(approval_state(world, mr, call.user_id), status_code=201)
