"""Milestones of projects and groups, and their issues and merge requests (doc/api/milestones.md,
doc/api/group_milestones.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.issues import visible_issues
from tests.gitlab_sim.areas.labels_milestones.labels import Row, project_group_id, readable_group
from tests.gitlab_sim.areas.merge_requests import DETAIL_ONLY
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import REPORTER, SIM_URL, now

UPDATE_MILESTONE = ("title", "description", "start_date", "due_date", "state_event")


# --- milestones --------------------------------------------------------------------------------
def milestone_entity(milestone: Row) -> Row:
    return {k: v for k, v in milestone.items() if not k.startswith("_")}


def _milestones_of(call: Call, *, project: Row | None = None, group: Row | None = None) -> list[Row] | Response:
    """MilestonesFinder with the documented list filters; due date first (none last), then id."""
    state = call.arg("state", "all")
    if state not in ("active", "closed", "all"):
        return invalid_value("state")
    rows = call.world.table("milestones")
    if project is not None:
        found = [m for m in rows if m.get("project_id") == project["id"]]
        if call.flag("include_parent_milestones") or call.flag("include_ancestors"):
            found += [m for m in rows if m.get("group_id") and m.get("group_id") == project_group_id(project)]
    else:
        found = [m for m in rows if group is not None and m.get("group_id") == group["id"]]
    if state != "all":
        found = [m for m in found if m["state"] == state]
    if title := call.arg("title"):
        found = [m for m in found if m["title"] == title]
    if search := call.arg("search"):
        term = search.lower()
        found = [m for m in found if term in m["title"].lower() or term in (m["description"] or "").lower()]
    if iids := call.arg_list("iids"):
        found = [m for m in found if str(m["iid"]) in iids]
    return sorted(found, key=lambda m: (m["due_date"] is None, m["due_date"] or "", m["id"]))


def _milestone_in_path(call: Call, *, write: bool = False) -> tuple[Row, Row] | Response:
    if not call.params["milestone_id"].isdigit():
        return invalid_param("milestone_id")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if write and call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()  # admin_milestone: reporters (planners) and up
    mid = int(call.params["milestone_id"])
    milestone = next((m for m in call.world.table("milestones") if m["id"] == mid), None)
    if milestone is None or milestone.get("project_id") != project["id"]:
        return not_found("Milestone")
    return project, milestone


async def list_milestones(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    found = _milestones_of(call, project=project)
    return found if isinstance(found, Response) else paginate(call, [milestone_entity(m) for m in found])


async def list_group_milestones(call: Call) -> Response:
    group = readable_group(call)
    if group is None:
        return not_found("Group")
    found = _milestones_of(call, group=group)
    return found if isinstance(found, Response) else paginate(call, [milestone_entity(m) for m in found])


async def get_milestone(call: Call) -> Response:
    found = _milestone_in_path(call)
    return found if isinstance(found, Response) else JSONResponse(milestone_entity(found[1]))


async def create_milestone(call: Call) -> Response:
    if call.arg("title") is None:
        return missing_param("title")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()
    rows = call.world.table("milestones")
    mine = [m for m in rows if m.get("project_id") == project["id"]]
    iid = 1 + max((m["iid"] for m in mine), default=0)
    when, full = now(), project["path_with_namespace"]
    milestone = {"id": call.world.next_id(), "iid": iid, "project_id": project["id"], "title": str(call.arg("title"))}
    milestone |= {"description": call.arg("description"), "state": "active", "created_at": when, "updated_at": when}
    milestone |= {
        "due_date": None,
        "start_date": None,
        "expired": False,
        "web_url": f"{SIM_URL}/{full}/-/milestones/{iid}",
    }
    problem = _apply_milestone(call, project, milestone, "create")
    if problem:
        return problem
    rows.append(milestone)
    return JSONResponse(milestone_entity(milestone), status_code=201)


async def update_milestone(call: Call) -> Response:
    if all(call.arg(name) is None for name in UPDATE_MILESTONE):
        return param_error(f"{', '.join(UPDATE_MILESTONE)} are missing, at least one parameter must be provided")
    if call.arg("state_event") not in (None, "close", "activate"):
        return invalid_value("state_event")
    found = _milestone_in_path(call, write=True)
    if isinstance(found, Response):
        return found
    project, milestone = found
    draft = dict(milestone)
    problem = _apply_milestone(call, project, draft, "update")
    if problem:
        return problem
    if (event := call.arg("state_event")) is not None:
        draft["state"] = "closed" if event == "close" else "active"
    milestone.update(draft, updated_at=now())  # in place: issues embed this very row
    return JSONResponse(milestone_entity(milestone))


def _apply_milestone(call: Call, project: Row, milestone: Row, verb: str) -> Response | None:
    """Title and dates onto `milestone`; the validation error GitLab renders, or None."""
    errors: dict[str, list[str]] = {}
    for name in ("title", "description"):
        if call.arg(name) is not None:
            milestone[name] = str(call.arg(name))
    for name in ("start_date", "due_date"):
        if call.arg(name) is not None:
            milestone[name] = _date(call.arg(name))  # a string that is not a date is stored as nil
    if not milestone["title"].strip():
        errors["title"] = ["can't be blank"]
    others = [m for m in call.world.table("milestones") if m.get("project_id") == project["id"] and m is not milestone]
    if any(m["title"] == milestone["title"] and m["id"] != milestone["id"] for m in others):
        errors["title"] = ["already being used for another group or project milestone."]
    if milestone["start_date"] and milestone["due_date"] and milestone["start_date"] > milestone["due_date"]:
        errors["due_date"] = ["must be greater than start date"]
    if errors:
        # lib/api/milestone_responses.rb: "Failed to create milestone #{milestone.errors.messages}" (a Ruby hash)
        ruby = ", ".join(f":{k}=>[{', '.join(map(json.dumps, vs))}]" for k, vs in errors.items())
        return bad_request(f"Failed to {verb} milestone {{{ruby}}}")
    today = datetime.now(UTC).date().isoformat()
    milestone["expired"] = bool(milestone["due_date"] and milestone["due_date"] < today)
    return None


def _date(value: Any) -> str | None:
    try:
        return date.fromisoformat(str(value)).isoformat() if value else None
    except ValueError:
        return None


async def list_milestone_issues(call: Call) -> Response:
    found = _milestone_in_path(call)
    if isinstance(found, Response):
        return found
    project, milestone = found
    issues = [i for i in visible_issues(call, project) if (i["milestone"] or {}).get("id") == milestone["id"]]
    issues.sort(key=lambda i: i["id"], reverse=True)
    return paginate(call, issues)


async def list_milestone_merge_requests(call: Call) -> Response:
    found = _milestone_in_path(call)
    if isinstance(found, Response):
        return found
    project, milestone = found
    # MergeRequestsFinder(milestone_title:): the title within the project, whatever id the MR row embeds.
    mrs = [
        m
        for m in call.world.table("merge_requests")
        if m["project_id"] == project["id"] and (m["milestone"] or {}).get("title") == milestone["title"]
    ]
    mrs.sort(key=lambda m: m["id"], reverse=True)
    return paginate(call, [{k: v for k, v in m.items() if k not in DETAIL_ONLY} for m in mrs])
