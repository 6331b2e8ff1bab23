"""Simulated GitLab API: labels and milestones of projects and groups (doc/api/labels.md,
doc/api/group_labels.md, doc/api/milestones.md, doc/api/group_milestones.md).

Rows: world.table("labels") holds {id, name, color, description, priority, archived} plus `project_id`
or `group_id`; the entity (text colour, counts, is_project_label) is built per request. Issues and
merge requests carry label *names*, so renaming or deleting a label rewrites them, as GitLab's label
ids do. Milestones: world.table("milestones") (201 v1.0 closed and 202 v1.1 active in acme/app, seeded
by the issues area, which embeds the same row objects in its issues); this area adds 203 in
acme/website and group milestone 301 in acme. Group visibility comes from the variables area.

Roles (project_policy.rb): reading needs guest (or a public project); admin_label and admin_milestone
need reporter. Errors as lib/api/helpers/label_helpers.rb and lib/api/milestone_responses.rb give them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.groups import can_read_group, find_group
from tests.gitlab_sim.areas.issues import visible_issues
from tests.gitlab_sim.areas.merge_requests import DETAIL_ONLY
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    Router,
    bad_request,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import REPORTER, SIM_URL, World, now

Row = dict[str, Any]
HEX = re.compile(r"\A#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z")
# Gitlab::Color turns CSS colour names into hex; a few of the 148 names are enough here.
NAMED = {
    "black": "#000000", "white": "#FFFFFF", "red": "#FF0000", "green": "#008000", "blue": "#0000FF",
    "yellow": "#FFFF00", "orange": "#FFA500", "purple": "#800080", "gray": "#808080", "grey": "#808080",
    "crimson": "#DC143C", "teal": "#008080", "navy": "#000080", "gold": "#FFD700", "pink": "#FFC0CB",
}  # fmt: skip
UPDATE_LABEL = ("new_name", "color", "description", "priority", "archived")
UPDATE_MILESTONE = ("title", "description", "start_date", "due_date", "state_event")


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/labels")(list_labels)
    router.route("POST", "/projects/:id/labels")(create_label)
    router.route("GET", "/projects/:id/labels/:label_id")(get_label)
    router.route("PUT", "/projects/:id/labels/:label_id")(update_label)
    router.route("DELETE", "/projects/:id/labels/:label_id")(delete_label)
    router.route("GET", "/groups/:id/labels")(list_group_labels)
    router.route("GET", "/projects/:id/milestones")(list_milestones)
    router.route("POST", "/projects/:id/milestones")(create_milestone)
    router.route("GET", "/projects/:id/milestones/:milestone_id")(get_milestone)
    router.route("PUT", "/projects/:id/milestones/:milestone_id")(update_milestone)
    router.route("GET", "/projects/:id/milestones/:milestone_id/issues")(list_milestone_issues)
    router.route("GET", "/projects/:id/milestones/:milestone_id/merge_requests")(list_milestone_merge_requests)
    router.route("GET", "/groups/:id/milestones")(list_group_milestones)


# --- labels ------------------------------------------------------------------------------------
def project_group_id(project: Row) -> int | None:
    return project["namespace"]["id"] if project["namespace"]["kind"] == "group" else None


def available_labels(world: World, project: Row, *, ancestors: bool = True) -> list[Row]:
    """LabelsFinder for a project: its own labels and (by default) its group's, by title."""
    group_id = project_group_id(project) if ancestors else None
    rows = world.table("labels")
    found = [r for r in rows if r.get("project_id") == project["id"] or (group_id and r.get("group_id") == group_id)]
    return sorted(found, key=lambda r: (r["name"].lower(), r["id"]))


def find_label(world: World, project: Row, ref: str, *, ancestors: bool = True) -> Row | None:
    labels = available_labels(world, project, ancestors=ancestors)
    return next((r for r in labels if str(r["id"]) == ref), None) or next((r for r in labels if r["name"] == ref), None)


def text_color(color: str) -> str:
    """LabelsHelper#text_color_for_bg: dark text on light backgrounds."""
    hex6 = color[1:] if len(color) == 7 else "".join(c * 2 for c in color[1:])
    r, g, b = (int(hex6[i : i + 2], 16) for i in (0, 2, 4))
    return "#333333" if r * 0.299 + g * 0.587 + b * 0.114 > 186 else "#FFFFFF"


def label_entity(call: Call, label: Row, project: Row | None, *, counts: bool) -> Row:
    out = {k: label[k] for k in ("id", "name", "description", "color", "archived")}
    out |= {"description_html": label["description"], "text_color": text_color(label["color"]), "subscribed": False}
    if project is not None:
        out |= {"priority": label.get("priority"), "is_project_label": "project_id" in label}
    if counts:
        issues = visible_issues(call, project) if project else _group_issues(call, label["group_id"])
        mrs = [m for m in call.world.table("merge_requests") if m["state"] == "opened" and label["name"] in m["labels"]]
        pids = {project["id"]} if project else {p["id"] for p in _group_projects(call.world, label["group_id"])}
        out["open_issues_count"] = sum(1 for i in issues if i["state"] == "opened" and label["name"] in i["labels"])
        out["closed_issues_count"] = sum(1 for i in issues if i["state"] == "closed" and label["name"] in i["labels"])
        out["open_merge_requests_count"] = sum(1 for m in mrs if m["project_id"] in pids)
    return out


def _group_projects(world: World, group_id: int) -> list[Row]:
    return [p for p in world.projects.values() if project_group_id(p) == group_id]


def _group_issues(call: Call, group_id: int) -> list[Row]:
    projects = [p for p in _group_projects(call.world, group_id) if call.world.can_read(call.user_id, p)]
    return [i for p in projects for i in visible_issues(call, p)]


def _label_project(call: Call, *, write: bool = False) -> Row | Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if write and call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()  # admin_label: reporters and up
    return project


def _color(value: Any) -> str | None:
    text = str(value).strip()
    return text if HEX.match(text) else NAMED.get(text.lower())


def _validation(**errors: list[str]) -> Response:
    return bad_request(errors)  # render_validation_error!: 400 {"message": {"field": ["..."]}}


def matches(label: Row, search: str) -> bool:
    """Label.search: a case-insensitive substring of the title or the description (fuzzy_search, ILIKE)."""
    term = search.lower()
    return term in label["name"].lower() or term in (label["description"] or "").lower()


async def list_labels(call: Call) -> Response:
    project = _label_project(call)
    if isinstance(project, Response):
        return project
    labels = available_labels(call.world, project, ancestors=call.flag("include_ancestor_groups") is not False)
    if search := call.arg("search"):
        labels = [r for r in labels if matches(r, search)]
    counts = bool(call.flag("with_counts"))
    return paginate(call, [label_entity(call, r, project, counts=counts) for r in labels])


async def get_label(call: Call) -> Response:
    project = _label_project(call)
    if isinstance(project, Response):
        return project
    label = find_label(call.world, project, call.params["label_id"])
    if label is None:
        return not_found("Label")
    return JSONResponse(label_entity(call, label, project, counts=True))


async def create_label(call: Call) -> Response:
    for name in ("name", "color"):
        if call.arg(name) is None:
            return missing_param(name)
    project = _label_project(call, write=True)
    if isinstance(project, Response):
        return project
    name = str(call.arg("name")).strip()
    if find_label(call.world, project, name):
        return error(409, "Label already exists")  # conflict!('Label already exists')
    color = _color(call.arg("color"))
    if not name or "," in name:
        return _validation(title=["is invalid"] if name else ["can't be blank"])
    if color is None:
        return _validation(color=["must be a valid color code"])
    label = {"id": call.world.next_id(), "name": name, "color": color, "description": call.arg("description")}
    label |= {
        "priority": _int(call.arg("priority")),
        "archived": bool(call.flag("archived")),
        "project_id": project["id"],
    }
    call.world.table("labels").append(label)
    return JSONResponse(label_entity(call, label, project, counts=True), status_code=201)


async def update_label(call: Call) -> Response:
    if all(call.arg(name) is None for name in UPDATE_LABEL):
        return param_error(f"{', '.join(UPDATE_LABEL)} are missing, at least one parameter must be provided")
    project = _label_project(call, write=True)
    if isinstance(project, Response):
        return project
    label = find_label(call.world, project, call.params["label_id"], ancestors=False)
    if label is None:
        return not_found("Label")
    changes: Row = {}
    if (new_name := call.arg("new_name")) is not None:
        new_name = str(new_name).strip()
        taken = find_label(call.world, project, new_name)
        if not new_name or "," in new_name:
            return _validation(title=["is invalid"] if new_name else ["can't be blank"])
        if taken and taken is not label:
            return _validation(title=["has already been taken"])
        changes["name"] = new_name
    if call.arg("color") is not None:
        if (color := _color(call.arg("color"))) is None:
            return _validation(color=["must be a valid color code"])
        changes["color"] = color
    if call.arg("description") is not None:
        changes["description"] = call.arg("description")
    if call.arg("priority") is not None:
        changes["priority"] = _int(call.arg("priority"))
    if "name" in changes and changes["name"] != label["name"]:
        _rename_on_issuables(call.world, project["id"], label["name"], changes["name"])
    label.update(changes)
    return JSONResponse(label_entity(call, label, project, counts=True))


async def delete_label(call: Call) -> Response:
    project = _label_project(call, write=True)
    if isinstance(project, Response):
        return project
    label = find_label(call.world, project, call.params["label_id"], ancestors=False)
    if label is None:
        return not_found("Label")
    call.world.table("labels").remove(label)
    _rename_on_issuables(call.world, project["id"], label["name"], None)
    return Response(status_code=204)


def _rename_on_issuables(world: World, project_id: int, old: str, new: str | None) -> None:
    """Issues and merge requests hold label names; GitLab holds ids, so a rename or delete shows everywhere."""
    for kind in ("issues", "merge_requests"):
        for row in world.table(kind):
            if row["project_id"] == project_id and old in row["labels"]:
                names = [n for n in row["labels"] if n != old] + ([new] if new else [])
                row["labels"] = sorted(set(names)) if kind == "issues" else names


async def list_group_labels(call: Call) -> Response:
    group = readable_group(call)
    if group is None:
        return not_found("Group")
    labels = sorted(
        (r for r in call.world.table("labels") if r.get("group_id") == group["id"]), key=lambda r: r["name"]
    )
    if search := call.arg("search"):
        labels = [r for r in labels if matches(r, search)]
    counts = bool(call.flag("with_counts"))
    return paginate(call, [label_entity(call, r, None, counts=counts) for r in labels])


def readable_group(call: Call) -> Row | None:
    group = find_group(call.world, call.params["id"])
    return group if group is not None and can_read_group(call.world, call.user_id, group) else None


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") and str(value).lstrip("-").isdigit() else None


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


# --- seed --------------------------------------------------------------------------------------
# (id, project id or None, group id or None, name, color, description, priority)
LABELS = (
    (801, 101, None, "bug", "#d9534f", "Something is broken", 1),
    (802, 101, None, "critical", "#ff0000", "Needs a fix now", 0),
    (803, 101, None, "documentation", "#f0ad4e", "Docs and guides", None),
    (804, 101, None, "feature", "#5cb85c", "New functionality", None),
    (805, 101, None, "frontend", "#428bca", None, None),
    (806, 101, None, "backend", "#8e44ad", None, None),
    (807, 101, None, "refactor", "#eee", None, None),
    (808, 101, None, "chore", "#cccccc", None, None),
    (811, 102, None, "content", "#69d100", "Copy and images", None),
    (812, 102, None, "bug", "#d9534f", None, None),
    (821, 104, None, "secret-plan", "#000000", "Nobody but bob", None),
    (831, None, 10, "priority::high", "#dc143c", "Acme-wide: do this first", None),
    (832, None, 10, "team::platform", "#1f75cb", "Acme-wide: the platform team", None),
)


def seed(world: World) -> None:
    for lid, pid, gid, name, color, description, priority in LABELS:
        label = {"id": lid, "name": name, "color": color, "description": description, "archived": False}
        owner = {"project_id": pid, "priority": priority} if pid else {"group_id": gid}
        world.table("labels").append(label | owner)
    milestones = world.table("milestones")
    milestones.append(_milestone(203, 1, {"project_id": 102}, "Launch", "2030-01-15", "acme/website"))
    milestones.append(_milestone(301, 1, {"group_id": 10}, "Q3 planning", "2030-09-30", "groups/acme"))


def _milestone(mid: int, iid: int, owner: Row, title: str, due: str, path: str) -> Row:
    when = "2024-03-02T09:00:00.000Z"
    return {
        "id": mid,
        "iid": iid,
        **owner,
        "title": title,
        "description": f"{title} milestone",
        "state": "active",
        "created_at": when,
        "updated_at": when,
        "due_date": due,
        "start_date": "2024-03-01",
        "expired": False,
        "web_url": f"{SIM_URL}/{path}/-/milestones/{iid}",
    }
