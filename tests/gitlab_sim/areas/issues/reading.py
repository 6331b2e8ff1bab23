"""Who may see an issue, and reading and creating issues in a project (doc/api/issues.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.issues.rows import ORDERS, SORTS, STATES, Issue, add_issue
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import REPORTER, World


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
        due_date=date_or_none(call.arg("due_date")),
    )
    return JSONResponse(detail(call, issue), status_code=201)


def date_or_none(value: Any) -> str | None:
    # A due_date that is not a date is stored as nil (Rails casting), not refused.
    try:
        return date.fromisoformat(str(value)).isoformat() if value else None
    except ValueError:
        return None
