"""Reading merge requests: list, get and the diffs (doc/api/merge_requests.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.merge_requests.states import detail
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    invalid_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import World

STATES = ("opened", "closed", "locked", "merged", "all")


ORDERS = ("created_at", "updated_at", "title", "merged_at")


# Fields of the single-MR response that the list endpoints do not return.
DETAIL_ONLY = frozenset((
    "subscribed", "changes_count", "latest_build_started_at", "latest_build_finished_at",
    "first_deployed_to_production_at", "pipeline", "head_pipeline", "diff_refs", "merge_error", "first_contribution",
    "user",
))  # fmt: skip


SIMPLE_FIELDS = ("id", "iid", "project_id", "title", "description", "state", "created_at", "updated_at", "web_url")


DIFF_FIELDS = (
    "old_path", "new_path", "a_mode", "b_mode", "diff", "collapsed", "too_large", "new_file", "renamed_file",
    "deleted_file", "generated_file",
)  # fmt: skip


# --- endpoints -----------------------------------------------------------------------------------
async def list_merge_requests(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    problem = invalid_list_params(call)
    if problem:
        return param_error(problem)
    mrs = [mr for mr in call.world.table("merge_requests") if mr["project_id"] == project["id"]]
    mrs = [mr for mr in mrs if matches(call, mr)]
    order = call.arg("order_by", "created_at")
    mrs.sort(key=lambda mr: (mr.get(order) or "", mr["id"]), reverse=call.arg("sort", "desc") == "desc")
    fields = SIMPLE_FIELDS if call.arg("view") == "simple" else None
    return paginate(call, [list_entity(mr, fields) for mr in mrs])


async def get_merge_request(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    return JSONResponse(detail(call, mr))


async def list_diffs(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    rows = call.world.table("mr_diffs")
    files = [
        {k: r[k] for k in DIFF_FIELDS} for r in rows if (r["project_id"], r["iid"]) == (mr["project_id"], mr["iid"])
    ]
    if call.flag("unidiff"):
        # unidiff=true (GitLab 16.5+) prefixes each diff with its ---/+++ header lines.
        for f in files:
            if f["diff"]:
                old = "/dev/null" if f["new_file"] else f"a/{f['old_path']}"
                new = "/dev/null" if f["deleted_file"] else f"b/{f['new_path']}"
                f["diff"] = f"--- {old}\n+++ {new}\n{f['diff']}"
    return paginate(call, files)


# --- helpers -------------------------------------------------------------------------------------
def find_merge_request(world: World, project_id: int, iid: int) -> dict[str, Any] | None:
    mrs = world.table("merge_requests")
    return next((mr for mr in mrs if mr["project_id"] == project_id and mr["iid"] == iid), None)


def merge_request_in_path(call: Call) -> dict[str, Any] | Response:
    """The MR named by :id and :merge_request_iid, or GitLab's error response."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["merge_request_iid"].isdigit():
        return invalid_param("merge_request_iid")
    mr = find_merge_request(call.world, project["id"], int(call.params["merge_request_iid"]))
    # A missing MR raises ActiveRecord::RecordNotFound, which the API renders as 404 "404 Not found".
    return mr if mr is not None else not_found()


def list_entity(mr: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    if fields:
        return {k: mr[k] for k in fields}
    return {k: v for k, v in mr.items() if k not in DETAIL_ONLY}


def invalid_list_params(call: Call) -> str | None:
    for name, allowed in (("state", STATES), ("order_by", ORDERS), ("sort", ("asc", "desc"))):
        if call.arg(name) is not None and call.arg(name) not in allowed:
            return f"{name} does not have a valid value"
    for pair in (("author_id", "author_username"), ("reviewer_id", "reviewer_username")):
        if all(call.arg(name) is not None for name in pair):
            return f"{', '.join(pair)} are mutually exclusive"
    if call.arg("wip") not in (None, "yes", "no"):
        return "wip does not have a valid value"
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        try:
            _time_match(call.arg(name), "2024-01-01T00:00:00Z", after=True)
        except ValueError:
            return f"{name} is invalid"
    return None


def matches(call: Call, mr: dict[str, Any]) -> bool:
    """The documented filters of GET /projects/:id/merge_requests, all of which must hold."""
    state = call.arg("state", "all")
    me = call.world.users.get(call.user_id or 0, {}).get("username")
    checks = [
        state == "all" or mr["state"] == state,
        _labels_match(call.arg_list("labels"), mr["labels"]),
        _user_match(call.arg("author_username"), [mr["author"]["username"]]),
        _user_match(call.arg("author_id"), [str(mr["author"]["id"])]),
        _user_match(call.arg("reviewer_username"), [u["username"] for u in mr["reviewers"]]),
        _user_match(call.arg("reviewer_id"), [str(u["id"]) for u in mr["reviewers"]]),
        _user_match(call.arg("assignee_id"), [str(u["id"]) for u in mr["assignees"]]),
        call.arg("source_branch") in (None, mr["source_branch"]),
        call.arg("target_branch") in (None, mr["target_branch"]),
        call.arg("wip") is None or (call.arg("wip") == "yes") == mr["draft"],
        not call.arg_list("iids") or str(mr["iid"]) in call.arg_list("iids"),
        _search_match(call, mr),
        _time_match(call.arg("created_after"), mr["created_at"], after=True),
        _time_match(call.arg("created_before"), mr["created_at"], after=False),
        _time_match(call.arg("updated_after"), mr["updated_at"], after=True),
        _time_match(call.arg("updated_before"), mr["updated_at"], after=False),
    ]
    scope = call.arg("scope", "all").replace("-", "_")
    if scope == "created_by_me":
        checks.append(mr["author"]["username"] == me)
    elif scope == "assigned_to_me":
        checks.append(me in [u["username"] for u in mr["assignees"]])
    elif scope == "reviews_for_me":
        checks.append(me in [u["username"] for u in mr["reviewers"]])
    return all(checks)


def _labels_match(wanted: list[str], labels: list[str]) -> bool:
    # labels=None: no labels; labels=Any: at least one; otherwise every listed label (case-insensitive).
    if not wanted:
        return True
    if [w.lower() for w in wanted] == ["none"]:
        return not labels
    if [w.lower() for w in wanted] == ["any"]:
        return bool(labels)
    have = {label.lower() for label in labels}
    return all(w.lower() in have for w in wanted)


def _user_match(wanted: str | None, values: list[str]) -> bool:
    if wanted is None:
        return True
    if wanted.lower() == "none":
        return not values
    if wanted.lower() == "any":
        return bool(values)
    return wanted in values


def _search_match(call: Call, mr: dict[str, Any]) -> bool:
    term = call.arg("search")
    if not term:
        return True
    fields = [f.strip() for f in call.arg("in", "title,description").split(",")]
    return any(term.lower() in (mr.get(f) or "").lower() for f in fields)


def _time_match(bound: str | None, value: str, *, after: bool) -> bool:
    if not bound:
        return True
    limit, when = _parse_time(bound), _parse_time(value)
    return when >= limit if after else when <= limit


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


PIPELINE_BASIC = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url")
