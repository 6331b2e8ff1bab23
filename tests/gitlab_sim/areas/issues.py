"""Simulated GitLab API: issues, their notes and links (doc/api/issues.md, doc/api/notes.md,
doc/api/issue_links.md), and the merge requests that mention or close them.

Rows are kept in GitLab's JSON shape: world.table("issues"), world.table("notes") (issue notes carry
noteable_type "Issue") and world.table("milestones"); world.table("issue_links") holds
{id, source_id, target_id, link_type relates_to|blocks, created_at, updated_at}.
Seed: 25 issues in acme/app (every 5th closed, #7 and #14 confidential), 3 in acme/website (#2
confidential, #3 locked), 1 in bob/secret, notes on acme/app#1; issues are turned off in alice/notes.
Links of acme/app#1: relates to #2, blocked by #3, relates to bob/secret#1 (hidden from alice).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.groups import can_read_group, descendants, find_group
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    Router,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import GUEST, MAINTAINER, OWNER, REPORTER, SIM_URL, World, now

Issue = dict[str, Any]
STATES = ("opened", "closed", "all")
SORTS = ("asc", "desc")
# Every documented order_by; those the simulator cannot model (priority, weight…) sort like created_at.
ORDERS: tuple[str, ...] = (
    "created_at",
    "updated_at",
    "priority",
    "due_date",
    "relative_position",
    "label_priority",
    "milestone_due",
)
ORDERS += ("popularity", "title", "weight")
NOTE_ORDERS = ("created_at", "updated_at")


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/issues")(list_issues)
    router.route("POST", "/projects/:id/issues")(create_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid")(get_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid/notes")(list_notes)
    router.route("POST", "/projects/:id/issues/:issue_iid/notes")(create_note)
    router.route("PUT", "/projects/:id/issues/:issue_iid/notes/:note_id")(update_note)
    router.route("GET", "/issues")(list_all_issues)
    router.route("GET", "/groups/:id/issues")(list_group_issues)
    router.route("PUT", "/projects/:id/issues/:issue_iid")(update_issue)
    router.route("DELETE", "/projects/:id/issues/:issue_iid")(delete_issue)
    router.route("POST", "/projects/:id/issues/:issue_iid/move")(move_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid/links")(list_links)
    router.route("POST", "/projects/:id/issues/:issue_iid/links")(create_link)
    router.route("DELETE", "/projects/:id/issues/:issue_iid/links/:issue_link_id")(delete_link)
    router.route("GET", "/projects/:id/issues/:issue_iid/related_merge_requests")(related_merge_requests)
    router.route("GET", "/projects/:id/issues/:issue_iid/closed_by")(closed_by)


# --- rules -------------------------------------------------------------------------------------
def can_see(world: World, user_id: int | None, issue: Issue) -> bool:
    """Confidential issues: reporters and up, the author, the assignees (user/project/issues/confidential_issues.md)."""
    if not issue["confidential"]:
        return True
    if user_id is None:
        return False
    return (
        world.access_level(user_id, issue["project_id"]) >= REPORTER
        or issue["author"]["id"] == user_id
        or any(a["id"] == user_id for a in issue["assignees"])
    )


def visible_issues(call: Call, project: dict[str, Any]) -> list[Issue]:
    if not project.get("issues_enabled", True):
        return []
    rows = call.world.table("issues")
    return [i for i in rows if i["project_id"] == project["id"] and can_see(call.world, call.user_id, i)]


def unauthorized() -> JSONResponse:
    return error(401, "401 Unauthorized")


# --- issues ------------------------------------------------------------------------------------
async def list_issues(call: Call) -> Response:
    state, order, sort = call.arg("state", "all"), call.arg("order_by", "created_at"), call.arg("sort", "desc")
    for name, value, allowed in (("state", state, STATES), ("order_by", order, ORDERS), ("sort", sort, SORTS)):
        if value not in allowed:
            return invalid_value(name)
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    checks = filters(call)
    issues = [i for i in visible_issues(call, project) if state in ("all", i["state"]) and all(c(i) for c in checks)]
    return paginate(call, ordered(issues, order, descending=sort == "desc"))


def filters(call: Call) -> list[Callable[[Issue], bool]]:
    """The documented list filters the simulator understands, as predicates."""
    checks: list[Callable[[Issue], bool]] = []
    labels = [label.strip() for label in call.arg_list("labels")]
    if [label.lower() for label in labels] in (["none"], ["any"]):
        checks.append(lambda i: bool(i["labels"]) == (labels[0].lower() == "any"))
    elif labels:
        checks.append(lambda i: set(labels) <= set(i["labels"]))
    if milestone := call.arg("milestone"):
        if milestone.lower() in ("none", "any"):
            checks.append(lambda i: (i["milestone"] is not None) == (milestone.lower() == "any"))
        else:
            checks.append(lambda i: (i["milestone"] or {}).get("title") == milestone)
    if search := call.arg("search"):
        term = search.lower()
        checks.append(lambda i: term in i["title"].lower() or term in (i["description"] or "").lower())
    if author := call.arg("author_username"):
        checks.append(lambda i: i["author"]["username"] == author)
    if author_id := call.arg("author_id"):
        checks.append(lambda i: str(i["author"]["id"]) == str(author_id))
    if assignees := call.arg_list("assignee_username"):
        checks.append(lambda i: set(assignees) <= {a["username"] for a in i["assignees"]})
    if (confidential := call.flag("confidential")) is not None:
        checks.append(lambda i: i["confidential"] == confidential)
    if iids := call.arg_list("iids"):
        checks.append(lambda i: str(i["iid"]) in iids)
    return checks


def ordered(issues: list[Issue], order: str, *, descending: bool) -> list[Issue]:
    if order == "due_date":
        # GitLab lists issues without a due date last, whatever the direction.
        dated = sorted((i for i in issues if i["due_date"]), key=lambda i: (i["due_date"], i["id"]), reverse=descending)
        return dated + sorted((i for i in issues if not i["due_date"]), key=lambda i: i["id"], reverse=descending)
    keys: dict[str, Callable[[Issue], Any]] = {
        "updated_at": lambda i: i["updated_at"],
        "title": lambda i: i["title"].lower(),
        "popularity": lambda i: i["upvotes"],
    }
    key = keys.get(order, lambda i: i["created_at"])
    return sorted(issues, key=lambda i: (key(i), i["id"]), reverse=descending)


async def get_issue(call: Call) -> Response:
    if not call.params["issue_iid"].isdigit():
        return invalid_param("issue_iid")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()  # IssuesFinder#find_by! raises RecordNotFound: 404 "404 Not found"
    return JSONResponse(detail(call, issue))


def find_issue(call: Call, project: dict[str, Any]) -> Issue | None:
    iid = call.params["issue_iid"]
    return next((i for i in visible_issues(call, project) if str(i["iid"]) == iid), None)


def detail(call: Call, issue: Issue) -> Issue:
    involved = call.user_id in (issue["author"]["id"], *(a["id"] for a in issue["assignees"]))
    return {**issue, "subscribed": involved}


async def create_issue(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    title = call.arg("title")
    if title is None:
        return missing_param("title")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not project.get("issues_enabled", True) or project.get("archived"):
        return forbidden()  # doc/api/issues.md: issues turned off → 403; archived projects are read-only
    if not str(title).strip():
        return error(400, {"title": ["can't be blank"]})
    world = call.world
    # Issues::CreateService drops assignees who cannot see the project and milestones of other projects.
    raw_ids = call.arg_list("assignee_ids") or call.arg_list("assignee_id")
    ids = [int(v) for v in raw_ids if v.isdigit()]
    assignees = [u for u in ids if u in world.users and world.can_read(u, project)]
    issue = add_issue(
        world,
        project,
        author=call.user_id,
        title=str(title).strip(),
        labels=[label.strip() for label in call.arg_list("labels") if label.strip()],
        assignees=assignees,
        milestone_id=int(call.arg("milestone_id")) if str(call.arg("milestone_id", "")).isdigit() else None,
        description=call.arg("description"),
        confidential=bool(call.flag("confidential")),
        due_date=_date(call.arg("due_date")),
    )
    return JSONResponse(detail(call, issue), status_code=201)


def _date(value: Any) -> str | None:
    # A due_date that is not a date is stored as nil (Rails casting), not refused.
    try:
        return date.fromisoformat(str(value)).isoformat() if value else None
    except ValueError:
        return None


# --- notes -------------------------------------------------------------------------------------
async def list_notes(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()  # the notes API authenticates every request
    order, sort = call.arg("order_by", "created_at"), call.arg("sort", "desc")
    for name, value, allowed in (("order_by", order, NOTE_ORDERS), ("sort", sort, SORTS)):
        if value not in allowed:
            return invalid_value(name)
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")  # NotesHelpers#find_noteable: not_found!(noteable_type)
    notes = [n for n in call.world.table("notes") if n["noteable_type"] == "Issue" and n["noteable_id"] == issue["id"]]
    if call.world.access_level(call.user_id, project["id"]) < REPORTER:
        notes = [n for n in notes if not n["internal"]]  # internal notes: reporters and up
    notes.sort(key=lambda n: (n[order], n["id"]), reverse=sort == "desc")
    return paginate(call, [shown_note(n) for n in notes])


async def create_note(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    body = call.arg("body")
    if body is None:
        return missing_param("body")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    level = call.world.access_level(call.user_id, project["id"])
    if project.get("archived") or (issue["discussion_locked"] and level < GUEST):
        return forbidden()  # a locked discussion takes comments from project members only
    if not str(body).strip():
        return error(400, '400 Bad request - Note {:note=>["can\'t be blank"]}')
    # Notes::BuildService silently drops `internal` for users below reporter.
    internal = bool(call.flag("internal") or call.flag("confidential")) and level >= REPORTER
    note = add_note(call.world, issue, author=call.user_id, body=str(body), internal=internal)
    return JSONResponse(note, status_code=201)


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


# --- edit, delete, move ----------------------------------------------------------------------------
# The at_least_one_of parameters of PUT /projects/:id/issues/:issue_iid (lib/api/issues.rb).
UPDATABLE = (
    "title", "description", "assignee_ids", "assignee_id", "milestone_id", "discussion_locked", "labels",
    "add_labels", "remove_labels", "created_at", "due_date", "confidential", "state_event", "issue_type",
)  # fmt: skip


async def update_issue(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    if not any(key in call.body or key in call.query for key in UPDATABLE):
        return param_error(f"{', '.join(UPDATABLE)} are missing, at least one parameter must be provided")
    if call.arg("state_event") not in (None, "close", "reopen"):
        return invalid_value("state_event")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    level = call.world.access_level(call.user_id, project["id"])
    involved = call.user_id in (issue["author"]["id"], *(a["id"] for a in issue["assignees"]))
    if level < REPORTER and not involved:
        return forbidden()  # update_issue: planners/reporters and up, or the author or an assignee
    if call.arg("title") is not None and not str(call.arg("title")).strip():
        return error(400, {"title": ["can't be blank"]})
    # Issues::UpdateService#filter_params drops what only reporters and up may change.
    admin = level >= REPORTER
    _apply_edits(call, project, issue, admin=admin)
    return JSONResponse(detail(call, issue))


def _apply_edits(call: Call, project: dict[str, Any], issue: Issue, *, admin: bool) -> None:
    world, when = call.world, now()
    for key in ("title", "description"):
        if key in call.body or key in call.query:
            issue[key] = call.arg(key)
    if admin:
        _apply_admin_edits(call, project, issue)
    event = call.arg("state_event")
    if event == "close" and issue["state"] == "opened":
        issue |= {"state": "closed", "closed_at": when, "closed_by": world.user_ref(call.user_id or 0)}
        add_note(world, issue, author=call.user_id or 0, body="closed", system=True, at=when)
    elif event == "reopen" and issue["state"] == "closed":
        issue |= {"state": "opened", "closed_at": None, "closed_by": None}
        add_note(world, issue, author=call.user_id or 0, body="reopened", system=True, at=when)
    issue["updated_at"] = when
    _count_open(world, project)


def _apply_admin_edits(call: Call, project: dict[str, Any], issue: Issue) -> None:
    world = call.world
    if "labels" in call.body or "labels" in call.query:
        issue["labels"] = sorted({label.strip() for label in call.arg_list("labels") if label.strip()})
    added = {label.strip() for label in call.arg_list("add_labels") if label.strip()}
    removed = {label.strip() for label in call.arg_list("remove_labels")}
    issue["labels"] = sorted((set(issue["labels"]) | added) - removed)
    raw = call.arg_list("assignee_ids") if "assignee_ids" in call.body or call.query.get("assignee_ids[]") else None
    if raw is not None:  # [] or [0] unassigns everyone
        ids = [int(v) for v in raw if str(v).isdigit() and int(v) in world.users]
        users = [world.user_ref(u) for u in ids if world.can_read(u, project)]
        issue |= {"assignees": users, "assignee": users[0] if users else None}
    if "milestone_id" in call.body or "milestone_id" in call.query:
        wanted = str(call.arg("milestone_id") or "")
        milestones = world.table("milestones")
        issue["milestone"] = next(
            (m for m in milestones if str(m["id"]) == wanted and m["project_id"] == project["id"]), None
        )
    if "due_date" in call.body or "due_date" in call.query:
        issue["due_date"] = _date(call.arg("due_date"))
    for flag in ("confidential", "discussion_locked"):
        if call.flag(flag) is not None:
            issue[flag] = call.flag(flag)


def _count_open(world: World, project: dict[str, Any]) -> None:
    rows = world.table("issues")
    project["open_issues_count"] = sum(1 for i in rows if i["project_id"] == project["id"] and i["state"] == "opened")


async def delete_issue(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    if call.world.access_level(call.user_id, project["id"]) < OWNER:
        return forbidden()  # doc/api/issues.md: only for administrators and project owners
    world = call.world
    world.table("issues").remove(issue)
    world.rows["notes"] = [n for n in world.table("notes") if not _on_issue(n, issue)]
    world.rows["issue_links"] = [
        k for k in world.table("issue_links") if issue["id"] not in (k["source_id"], k["target_id"])
    ]
    _count_open(world, project)
    return Response(status_code=204)


def _on_issue(note: dict[str, Any], issue: Issue) -> bool:
    return note["noteable_type"] == "Issue" and note["noteable_id"] == issue["id"]


async def move_issue(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    target_id = call.arg("to_project_id")
    if target_id is None:
        return missing_param("to_project_id")
    if not str(target_id).isdigit():
        return invalid_param("to_project_id")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    world = call.world
    target = world.projects.get(int(target_id))
    if target is None or not world.can_read(call.user_id, target):
        return not_found("Project")
    # Issue#can_move?: not moved yet, and admin_issue (reporter and up) in both projects.
    allowed = issue["moved_to_id"] is None and target.get("issues_enabled", True)
    allowed = allowed and min(world.access_level(call.user_id, p["id"]) for p in (project, target)) >= REPORTER
    if not allowed:
        return error(400, "Cannot move issue due to insufficient permissions!")
    if target["id"] == project["id"]:
        return error(400, "Cannot move issue to project it originates from!")
    moved = _moved_copy(call, issue, target)
    return JSONResponse(detail(call, moved), status_code=201)


def _moved_copy(call: Call, issue: Issue, target: dict[str, Any]) -> Issue:
    """Issues::MoveService: a copy in the target with the notes, and the original closed, pointing at it."""
    world, when = call.world, now()
    assignees = [a["id"] for a in issue["assignees"] if world.can_read(a["id"], target)]
    moved = add_issue(
        world, target, author=issue["author"]["id"], title=issue["title"], labels=issue["labels"], assignees=assignees,
        description=issue["description"], confidential=issue["confidential"], due_date=issue["due_date"],
    )  # fmt: skip
    for note in [n for n in world.table("notes") if _on_issue(n, issue)]:
        copy = add_note(
            world, moved, author=note["author"]["id"], body=note["body"], system=note["system"], at=note["created_at"]
        )
        copy["internal"] = copy["confidential"] = note["internal"]
    source = world.projects[issue["project_id"]]
    add_note(world, moved, author=call.user_id or 0, body=f"moved from {issue['references']['full']}", system=True)
    add_note(world, issue, author=call.user_id or 0, body=f"moved to {moved['references']['full']}", system=True)
    issue |= {"state": "closed", "closed_at": when, "closed_by": world.user_ref(call.user_id or 0)}
    issue |= {"moved_to_id": moved["id"], "updated_at": when}
    _count_open(world, source)
    return moved


# --- links (doc/api/issue_links.md) ----------------------------------------------------------------
LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")
INVERSE = {"relates_to": "relates_to", "blocks": "is_blocked_by", "is_blocked_by": "blocks"}
NO_LINK_PERMISSION = "Couldn't link issues. You must have at least the Guest role in both projects."


def _issue_by_id(world: World, issue_id: int) -> Issue | None:
    return next((i for i in world.table("issues") if i["id"] == issue_id), None)


def _readable(call: Call, issue: Issue | None) -> bool:
    project = call.world.projects[issue["project_id"]] if issue else None
    return bool(
        issue and project and call.world.can_read(call.user_id, project) and can_see(call.world, call.user_id, issue)
    )


def _links_of(call: Call, issue: Issue) -> list[tuple[dict[str, Any], Issue, str]]:
    """(link, the other issue, link type as seen from `issue`), oldest link first, hidden issues left out."""
    found = []
    for link in sorted(call.world.table("issue_links"), key=lambda k: k["id"]):
        if issue["id"] == link["source_id"]:
            other, kind = _issue_by_id(call.world, link["target_id"]), link["link_type"]
        elif issue["id"] == link["target_id"]:
            other, kind = _issue_by_id(call.world, link["source_id"]), INVERSE[link["link_type"]]
        else:
            continue
        if other is not None and _readable(call, other):
            found.append((link, other, kind))
    return found


async def list_links(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    related = [
        {**other, "issue_link_id": link["id"], "link_type": kind}
        | {"link_created_at": link["created_at"], "link_updated_at": link["updated_at"]}
        for link, other, kind in _links_of(call, issue)
    ]
    return JSONResponse(related)


async def create_link(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    for name in ("target_project_id", "target_issue_iid"):
        if call.arg(name) is None:
            return missing_param(name)
    kind = call.arg("link_type", "relates_to")
    if kind not in LINK_TYPES:
        return invalid_value("link_type")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    source = find_issue(call, project)
    if source is None:
        return not_found()
    world = call.world
    target_project = world.find_project(str(call.arg("target_project_id")))
    if target_project is None or not world.can_read(call.user_id, target_project):
        return not_found("Project")
    target = next(
        (i for i in visible_issues(call, target_project) if str(i["iid"]) == str(call.arg("target_issue_iid"))), None
    )
    if target is None:
        return not_found()
    if min(world.access_level(call.user_id, p["id"]) for p in (project, target_project)) < GUEST:
        return error(403, NO_LINK_PERMISSION)
    if target["id"] == source["id"]:
        return error(422, "Source cannot be related to itself.")
    if any(other["id"] == target["id"] for _, other, _ in _links_of(call, source)):
        return error(409, "Issue(s) already assigned")
    link = _add_link(world, source, target, kind)
    return JSONResponse(_link_body(call, link), status_code=201)


def _add_link(world: World, source: Issue, target: Issue, kind: str) -> dict[str, Any]:
    if kind == "is_blocked_by":  # stored the other way round, as GitLab does
        source, target, kind = target, source, "blocks"
    when = now()
    link = {"id": world.next_id(), "source_id": source["id"], "target_id": target["id"], "link_type": kind}
    link |= {"created_at": when, "updated_at": when}
    world.table("issue_links").append(link)
    return link


def _link_body(call: Call, link: dict[str, Any]) -> dict[str, Any]:
    """Entities::IssueLink: both issues (IssueBasic) and the type."""
    source, target = _issue_by_id(call.world, link["source_id"]), _issue_by_id(call.world, link["target_id"])
    return {"source_issue": source, "target_issue": target, "link_type": link["link_type"]}


async def delete_link(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    wanted = call.params["issue_link_id"]
    found = next(((link, other) for link, other, _ in _links_of(call, issue) if str(link["id"]) == wanted), None)
    if found is None:
        return not_found()  # IssueLink.for_source_or_target(issue).find raises RecordNotFound
    link, other = found
    levels = [call.world.access_level(call.user_id, i["project_id"]) for i in (issue, other)]
    if max(levels) < GUEST:
        return error(404, "No Issue Link found")  # IssueLinks::DestroyService without admin_issue_link
    body = _link_body(call, link)
    call.world.table("issue_links").remove(link)
    return JSONResponse(body)


# --- merge requests of an issue --------------------------------------------------------------------
CLOSING = re.compile(
    r"\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):? +#(\d+)\b", re.I
)
MR_FIELDS_DROPPED = ("pipeline", "head_pipeline", "diff_refs", "changes_count", "user", "merge_error", "subscribed")


def _mentions(text: str | None, issue: Issue, same_project: bool) -> bool:
    full = re.escape(issue["references"]["full"])
    pattern = rf"(?<![\w/]){full}\b" + (rf"|(?<![\w/])#{issue['iid']}\b" if same_project else "")
    return bool(re.search(pattern, text or ""))


def _issue_merge_requests(call: Call, *, closing: bool) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    world, found = call.world, []
    notes = world.table("notes")
    for mr in world.table("merge_requests"):
        if not world.can_read(call.user_id, world.projects[mr["project_id"]]):
            continue
        same = mr["project_id"] == issue["project_id"]
        if closing:
            hit = same and str(issue["iid"]) in CLOSING.findall(mr["description"] or "")
        else:
            texts = [mr["title"], mr["description"]]
            texts += [n["body"] for n in notes if n["noteable_type"] == "MergeRequest" and n["noteable_id"] == mr["id"]]
            hit = any(_mentions(text, issue, same) for text in texts)
        if hit:
            found.append({k: v for k, v in mr.items() if k not in MR_FIELDS_DROPPED})
    return paginate(call, sorted(found, key=lambda mr: mr["id"]))


async def related_merge_requests(call: Call) -> Response:
    return _issue_merge_requests(call, closing=False)


async def closed_by(call: Call) -> Response:
    return _issue_merge_requests(call, closing=True)


# --- editing a note ----------------------------------------------------------------------------------
async def update_note(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    body = call.arg("body")
    if body is not None and not str(body).strip():
        return param_error("body is empty")  # allow_blank: false
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found("Issue")
    wanted = call.params["note_id"]
    note = next((n for n in call.world.table("notes") if _on_issue(n, issue) and str(n["id"]) == wanted), None)
    if note is None:
        return not_found()  # noteable.notes.find raises RecordNotFound
    level = call.world.access_level(call.user_id, project["id"])
    # admin_note: the author or a maintainer; never system notes; internal notes need reporter (NotePolicy).
    allowed = (note["author"]["id"] == call.user_id or level >= MAINTAINER) and not note["system"]
    if not allowed or (note["internal"] and level < REPORTER):
        return forbidden()
    if body is not None:
        note |= {"body": str(body), "updated_at": now()}
    return JSONResponse(shown_note(note))


# --- rows --------------------------------------------------------------------------------------
def add_issue(
    world: World,
    project: dict[str, Any],
    *,
    author: int,
    title: str,
    labels: list[str] | tuple[str, ...] = (),
    assignees: list[int] | tuple[int, ...] = (),
    milestone_id: int | None = None,
    created_at: str | None = None,
    **fields: Any,
) -> Issue:
    """A new issue in GitLab's shape; `fields` override any attribute (state, closed_at, due_date…)."""
    rows = world.table("issues")
    iid = 1 + max((i["iid"] for i in rows if i["project_id"] == project["id"]), default=0)
    issue_id, when, full = world.next_id(), created_at or now(), project["path_with_namespace"]
    users = [world.user_ref(uid) for uid in assignees]
    milestones = world.table("milestones")
    milestone = next((m for m in milestones if m["id"] == milestone_id and m["project_id"] == project["id"]), None)
    api = f"{SIM_URL}/api/v4/projects/{project['id']}"
    issue = {
        "id": issue_id,
        "iid": iid,
        "project_id": project["id"],
        "title": title,
        "description": None,
        "state": "opened",
        "created_at": when,
        "updated_at": when,
        "closed_at": None,
        "closed_by": None,
        "labels": sorted(set(labels)),
        "milestone": milestone,
        "assignees": users,
        "assignee": users[0] if users else None,  # deprecated single assignee, still sent
        "author": world.user_ref(author),
        "type": "ISSUE",
        "user_notes_count": 0,
        "merge_requests_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": None,
        "confidential": False,
        "discussion_locked": False,
        "issue_type": "issue",
        "severity": "UNKNOWN",
        "imported": False,
        "imported_from": "none",
        "moved_to_id": None,
        "web_url": f"{SIM_URL}/{full}/-/issues/{iid}",
        "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{full}#{iid}"},
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None},
        "has_tasks": False,
        "task_completion_status": {"count": 0, "completed_count": 0},
        "_links": {"self": f"{api}/issues/{iid}", "notes": f"{api}/issues/{iid}/notes", "project": api},
        **fields,
    }
    rows.append(issue)
    project["open_issues_count"] = sum(1 for i in rows if i["project_id"] == project["id"] and i["state"] == "opened")
    return issue


def shown_note(note: dict[str, Any]) -> dict[str, Any]:
    """A note as the API shows it: private keys ("_discussion_id" of a thread note) stay inside."""
    return {k: v for k, v in note.items() if not k.startswith("_")}


def add_note(
    world: World, issue: Issue, *, author: int, body: str, system: bool = False, internal: bool = False, at: str = ""
) -> dict[str, Any]:
    when = at or now()
    note = {
        "id": world.next_id(),
        "type": None,
        "body": body,
        "attachment": None,
        "author": world.user_ref(author),
        "created_at": when,
        "updated_at": when,
        "system": system,
        "noteable_id": issue["id"],
        "noteable_type": "Issue",
        "project_id": issue["project_id"],
        "noteable_iid": issue["iid"],
        "resolvable": False,
        "confidential": internal,  # the deprecated name of `internal`
        "internal": internal,
        "imported": False,
        "imported_from": "none",
    }
    world.table("notes").append(note)
    issue["user_notes_count"] += 0 if system else 1
    issue["updated_at"] = max(issue["updated_at"], when)  # a note touches its issue
    return note


# --- seed --------------------------------------------------------------------------------------
APP_TITLES = (
    "Login fails with SSO",
    "Add dark mode",
    "Crash when uploading an avatar",
    "Export reports as CSV",
    "Search ignores accents",
    "Slow dashboard on large accounts",
    "Security: session fixation on logout",
    "Document the REST API",
    "Password reset email never arrives",
    "Remember the last opened project",
    "Broken pagination on the users page",
    "Dates shown in the wrong timezone",
    "Memory leak in the background worker",
    "Upgrade to Django 5",
    "Keyboard shortcuts for the editor",
    "Notifications are sent twice",
    "Add an audit log",
    "Typo in the settings page",
    "Mobile layout overflows",
    "Rate limit the public API",
    "Webhook retries never stop",
    "Allow SVG avatars",
    "Improve onboarding checklist",
    "Flaky test in the billing suite",
    "Archive old projects automatically",
)
LABEL_SETS = (("documentation",), ("bug",), ("feature",), ("bug", "critical"), ())  # by iid % 5
ASSIGNEE_SETS = ((1, 2), (1,), (2,), ())  # by iid % 4


def seed(world: World) -> None:
    milestones = world.table("milestones")
    milestones.append(_milestone(201, 1, "v1.0", "2024-05-01", "closed"))
    milestones.append(_milestone(202, 2, "v1.1", "2024-08-01", "active"))
    _seed_app(world, world.projects[101])
    website = world.projects[102]
    add_issue(world, website, author=1, title="Typo on the homepage", labels=["content"])
    add_issue(world, website, author=1, title="New pricing before the launch", confidential=True)
    locked = add_issue(world, website, author=1, title="Broken link in the footer", labels=["bug"])
    locked["discussion_locked"] = True
    add_note(world, locked, author=1, body="Locked: fixed in the next deploy.")
    hidden = add_issue(world, world.projects[104], author=2, title="Secret launch plan", assignees=[2])
    add_note(world, hidden, author=2, body="Do not share.")
    world.projects[103]["issues_enabled"] = False  # alice/notes: creating an issue there is a 403
    app = [i for i in world.table("issues") if i["project_id"] == 101]
    _add_link(world, app[0], app[1], "relates_to")
    _add_link(world, app[0], app[2], "is_blocked_by")
    _add_link(world, app[0], hidden, "relates_to")


def _seed_app(world: World, app: dict[str, Any]) -> None:
    """acme/app: authors alternate alice/bob, every 5th is closed, milestones on #1-#15."""
    for n, title in enumerate(APP_TITLES, start=1):
        updated = f"2024-05-{(n * 11) % 29 + 1:02d}T12:00:00.000Z"  # an order unlike created_at's
        fields: dict[str, Any] = {"updated_at": updated, "confidential": n in (7, 14), "upvotes": n % 7}
        fields |= {"description": f"Reported by a customer of the Acme app (ticket {1000 + n}).", "due_date": None}
        if n % 3 == 0:
            fields["due_date"] = f"2024-06-{n:02d}"
        if n % 5 == 0:
            fields |= {"state": "closed", "closed_at": updated, "closed_by": world.user_ref(1)}
        issue = add_issue(
            world,
            app,
            author=1 if n % 2 else 2,
            title=title,
            labels=LABEL_SETS[n % 5],
            assignees=ASSIGNEE_SETS[n % 4],
            milestone_id=201 if n <= 10 else 202 if n <= 15 else None,
            created_at=f"2024-04-{n:02d}T10:00:00.000Z",
            **fields,
        )
        if n == 1:
            issue["description"] = "SAML sign-in loops back to the login page."
            _seed_conversation(world, issue)


def _seed_conversation(world: World, issue: Issue) -> None:
    add_note(world, issue, author=2, body="I can reproduce this on staging.", at="2024-04-01T11:00:00.000Z")
    add_note(world, issue, author=1, body="added ~bug label", system=True, at="2024-04-01T11:05:00.000Z")
    add_note(world, issue, author=1, body="Root cause: the SAML certificate expired.", at="2024-04-01T12:00:00.000Z")
    add_note(world, issue, author=1, body="Customer is Initech.", internal=True, at="2024-04-01T12:30:00.000Z")


def _milestone(mid: int, iid: int, title: str, due: str, state: str) -> dict[str, Any]:
    """The milestone object GitLab embeds in issues (doc/api/milestones.md); both belong to acme/app."""
    return {
        "id": mid,
        "iid": iid,
        "project_id": 101,
        "title": title,
        "description": "",
        "state": state,
        "created_at": "2024-03-01T09:00:00.000Z",
        "updated_at": "2024-03-01T09:00:00.000Z",
        "due_date": due,
        "start_date": None,
        "expired": state == "closed",
        "web_url": f"{SIM_URL}/acme/app/-/milestones/{iid}",
    }
