"""Issues across projects: GET /issues and GET /groups/:id/issues (doc/api/issues.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from tests.gitlab_sim.areas.groups import can_read_group, descendants, find_group
from tests.gitlab_sim.areas.issues.reading import filters, ordered, unauthorized, visible_issues
from tests.gitlab_sim.areas.issues.rows import ORDERS, SORTS, STATES
from tests.gitlab_sim.http import (
    Call,
    invalid_value,
    not_found,
    paginate,
)

# --- across projects: GET /issues and GET /groups/:id/issues ----------------------------------
SCOPES = ("created_by_me", "assigned_to_me", "all")


async def list_all_issues(call: Call) -> Response:
    """GET /issues: every issue the caller can see, by default only those they created."""
    if call.user_id is None:
        return unauthorized()
    projects = [p for p in call.world.projects.values() if call.world.can_read(call.user_id, p)]
    return _across(call, projects, default_scope="created_by_me")


async def list_group_issues(call: Call) -> Response:
    world = call.world
    group = find_group(world, call.params["id"])
    if group is None or not can_read_group(world, call.user_id, group):
        return not_found("Group")
    paths = {g["full_path"] for g in descendants(world, group)}
    projects = [
        p for p in world.projects.values() if p["namespace"]["full_path"] in paths and world.can_read(call.user_id, p)
    ]
    return _across(call, projects, default_scope="all")


def _across(call: Call, projects: list[dict[str, Any]], *, default_scope: str) -> Response:
    state, order, sort = call.arg("state", "all"), call.arg("order_by", "created_at"), call.arg("sort", "desc")
    scope = call.arg("scope", default_scope)
    checks = (("state", state, STATES), ("order_by", order, ORDERS), ("sort", sort, SORTS), ("scope", scope, SCOPES))
    for name, value, allowed in checks:
        if value not in allowed:
            return invalid_value(name)
    if call.flag("non_archived") is not False:
        projects = [p for p in projects if not p.get("archived")]
    me = call.user_id
    predicates = filters(call)
    if scope == "created_by_me":
        predicates.append(lambda i: i["author"]["id"] == me)
    elif scope == "assigned_to_me":
        predicates.append(lambda i: any(a["id"] == me for a in i["assignees"]))
    issues = [
        i
        for p in projects
        for i in visible_issues(call, p)
        if state in ("all", i["state"]) and all(c(i) for c in predicates)
    ]
    return paginate(call, ordered(issues, order, descending=sort == "desc"))
