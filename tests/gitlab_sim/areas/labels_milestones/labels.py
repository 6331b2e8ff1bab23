"""Labels of projects and groups: list, get, create, update and delete (doc/api/labels.md,
doc/api/group_labels.md); who may read a group's."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.groups import can_read_group, find_group
from tests.gitlab_sim.areas.issues import visible_issues
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    error,
    forbidden,
    missing_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import REPORTER, World

Row = dict[str, Any]


HEX = re.compile(r"\A#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z")


# Gitlab::Color turns CSS colour names into hex; a few of the 148 names are enough here.
NAMED = {
    "black": "#000000", "white": "#FFFFFF", "red": "#FF0000", "green": "#008000", "blue": "#0000FF",
    "yellow": "#FFFF00", "orange": "#FFA500", "purple": "#800080", "gray": "#808080", "grey": "#808080",
    "crimson": "#DC143C", "teal": "#008080", "navy": "#000080", "gold": "#FFD700", "pink": "#FFC0CB",
}  # fmt: skip


UPDATE_LABEL = ("new_name", "color", "description", "priority", "archived")


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
