"""Merge requests across projects: GET /merge_requests and GET /groups/:id/merge_requests."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from tests.gitlab_sim.areas.groups import can_read_group, descendants, find_group
from tests.gitlab_sim.areas.merge_requests.reading import SIMPLE_FIELDS, invalid_list_params, list_entity, matches
from tests.gitlab_sim.http import (
    Call,
    error,
    invalid_value,
    not_found,
    paginate,
    param_error,
)


# --- across projects ------------------------------------------------------------------------------
async def list_all_merge_requests(call: Call) -> Response:
    """GET /merge_requests: by default the caller's own (scope=created_by_me), in every project they see."""
    scope = call.arg("scope", "created_by_me")
    if scope not in SCOPES:
        return invalid_value("scope")
    if call.user_id is None and scope != "all":
        return error(401, "401 Unauthorized")
    projects = [p for p in call.world.projects.values() if call.world.can_read(call.user_id, p)]
    return _across(call, projects, scope)


async def list_group_merge_requests(call: Call) -> Response:
    group = find_group(call.world, call.params["id"])
    if group is None or not can_read_group(call.world, call.user_id, group):
        return not_found("Group")
    paths = {g["full_path"] for g in descendants(call.world, group)}
    projects = [
        p for p in call.world.projects.values()
        if p["namespace"]["full_path"] in paths and call.world.can_read(call.user_id, p)
    ]  # fmt: skip
    if call.flag("non_archived") is not False:
        projects = [p for p in projects if not p["archived"]]
    return _across(call, projects, call.arg("scope", "all"))


def _across(call: Call, projects: list[dict[str, Any]], scope: str) -> Response:
    problem = invalid_list_params(call)
    if problem:
        return param_error(problem)
    ids = {p["id"] for p in projects}
    me = call.world.users.get(call.user_id or 0, {}).get("username")
    mrs = [mr for mr in call.world.table("merge_requests") if mr["project_id"] in ids and matches(call, mr)]
    people = {
        "created_by_me": lambda mr: [mr["author"]],
        "assigned_to_me": lambda mr: mr["assignees"],
        "reviews_for_me": lambda mr: mr["reviewers"],
    }.get(scope.replace("-", "_"))
    if people is not None:
        mrs = [mr for mr in mrs if me in [u["username"] for u in people(mr)]]
    order = call.arg("order_by", "created_at")
    mrs.sort(key=lambda mr: (mr.get(order) or "", mr["id"]), reverse=call.arg("sort", "desc") == "desc")
    return paginate(call, [list_entity(mr, SIMPLE_FIELDS if call.arg("view") == "simple" else None) for mr in mrs])


SCOPES = ("created_by_me", "assigned_to_me", "created-by-me", "assigned-to-me", "reviews_for_me", "all")
