"""Simulated GitLab API: project issues and their notes (doc/api/issues.md, doc/api/notes.md).

Rows are kept in GitLab's JSON shape: world.table("issues"), world.table("notes") (issue notes carry
noteable_type "Issue") and world.table("milestones"). Seed: 25 issues in acme/app (every 5th closed,
#7 and #14 confidential), 3 in acme/website (#2 confidential, #3 locked), 1 in bob/secret, notes on
acme/app#1; issues are turned off in alice/notes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.responses import JSONResponse, Response

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
)
from tests.gitlab_sim.world import GUEST, REPORTER, SIM_URL, World, now

Issue = dict[str, Any]
STATES = ("opened", "closed", "all")
SORTS = ("asc", "desc")
# Every documented order_by; those the simulator cannot model (priority, weight…) sort like created_at.
ORDERS = ("created_at", "updated_at", "priority", "due_date", "relative_position", "label_priority", "milestone_due")
ORDERS += ("popularity", "title", "weight")
NOTE_ORDERS = ("created_at", "updated_at")


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/issues")(list_issues)
    router.route("POST", "/projects/:id/issues")(create_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid")(get_issue)
    router.route("GET", "/projects/:id/issues/:issue_iid/notes")(list_notes)
    router.route("POST", "/projects/:id/issues/:issue_iid/notes")(create_note)


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
    return paginate(call, notes)


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
