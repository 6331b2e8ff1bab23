"""Issues: find, read, open, change and move them, and their comments (doc/api/issues.md,
doc/api/notes.md). Links are in issue_links.py, threads in issue_discussions.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import (
    AddLabels,
    Body,
    Comment,
    Date,
    Iid,
    Internal,
    NewBody,
    NewTitle,
    Page,
    PerPage,
    ProjectRef,
    RemoveLabels,
    Search,
    shared_parameters,
)
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, listing, pick
from mcp_bridge.tools.threads import notes_page

LIST_FIELDS = (
    "iid",
    "title",
    "state",
    "labels",
    "milestone",
    "author",
    "assignees",
    "confidential",
    "due_date",
    "user_notes_count",
    "created_at",
    "updated_at",
    "web_url",
)
DETAIL_FIELDS = (
    "id",
    "project_id",
    *LIST_FIELDS,
    "description",
    "closed_at",
    "closed_by",
    "discussion_locked",
    "merge_requests_count",
    "upvotes",
    "downvotes",
    "issue_type",
)
NOTE_FIELDS = ("id", "body", "author", "created_at", "updated_at", "system", "internal")

Labels = Annotated[list[str] | None, Field(description="Label names; an issue must carry all of them.")]
Username = Annotated[str | None, Field(description="GitLab username, without the @.")]


def _issue(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """An issue trimmed to `fields`; the milestone shrinks to its id and title."""
    issue = pick(data, fields)
    if isinstance(issue.get("milestone"), dict):
        issue["milestone"] = pick(issue["milestone"], ("id", "title"))
    return issue


def _labels(labels: list[str] | None) -> str | None:
    # The issue endpoints take labels as one comma-separated string (doc/api/issues.md).
    return ",".join(labels) if labels else None


@tool(READ, "issues", routes=("GET /projects/:id/issues",))
async def list_issues(
    project: ProjectRef,
    state: Literal["opened", "closed", "all"] = "opened",
    labels: Labels = None,
    search: Search = None,
    assignee_username: Username = None,
    author_username: Username = None,
    milestone: Annotated[str | None, Field(description="Milestone title, or 'None' / 'Any'.")] = None,
    order_by: Literal["created_at", "updated_at", "due_date", "priority", "popularity", "title"] = "created_at",
    sort: Literal["asc", "desc"] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's issues (open ones by default, newest first), filtered by labels, text, assignee,
    author or milestone. Returns iid, title, state, labels, people and dates for each, plus pagination."""
    params = {"state": state, "labels": _labels(labels), "search": search, "milestone": milestone}
    params |= {"assignee_username": assignee_username, "author_username": author_username}
    params |= {"order_by": order_by, "sort": sort}
    return await listed(
        f"/projects/{path_id(project)}/issues",
        f"Project {project}",
        page,
        per_page,
        lambda item: _issue(item, LIST_FIELDS),
        params,
    )


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid",))
async def get_issue(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Get one issue by its number (iid): title, full description, state, labels, assignees, milestone,
    due date and comment count. Read its comments with list_issue_notes."""
    data = await gitlab().get(f"/projects/{path_id(project)}/issues/{iid}", what=f"Issue #{iid} in {project}")
    return _issue(data, DETAIL_FIELDS)


@tool(WRITE, "issues", routes=("POST /projects/:id/issues",))
async def create_issue(
    project: ProjectRef,
    title: Annotated[str, Field(description="Issue title.", min_length=1, max_length=255)],
    description: Body = None,
    labels: Annotated[list[str] | None, Field(description="Label names; missing labels are created.")] = None,
    assignee_ids: Annotated[
        list[int] | None, Field(description="GitLab user ids (not usernames); get_current_user gives yours.")
    ] = None,
    confidential: Annotated[bool, Field(description="Visible only to reporters and up.")] = False,
    due_date: Date = None,
    milestone_id: Annotated[int | None, Field(description="Global id of the project's milestone.")] = None,
) -> dict[str, Any]:
    """Open a new issue in a project, authored by you. Returns the created issue with its iid and URL."""
    body: dict[str, Any] = {"title": title, "description": description, "labels": _labels(labels)}
    body |= {"assignee_ids": assignee_ids, "milestone_id": milestone_id, "due_date": due_date}
    body["confidential"] = confidential or None
    data = await gitlab().post(f"/projects/{path_id(project)}/issues", what=f"Project {project}", json=body)
    return _issue(data, DETAIL_FIELDS)


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid/notes",))
@shared_parameters(notes_page, after="what")
async def list_issue_notes(project: ProjectRef, iid: Iid, **paging: Any) -> dict[str, Any]:
    """List the comments on an issue, oldest first by default, including system notes (label, assignee
    and state changes, marked system=true). Returns body, author and date for each, plus pagination."""
    path = f"/projects/{path_id(project)}/issues/{iid}"
    return listing(*await notes_page(path, f"Issue #{iid} in {project}", **paging), NOTE_FIELDS)


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/notes",))
async def create_issue_note(
    project: ProjectRef,
    iid: Iid,
    body: Comment,
    internal: Internal = False,
) -> dict[str, Any]:
    """Comment on an issue as yourself. Returns the new note (id, body, author, date)."""
    data = await gitlab().post(
        f"/projects/{path_id(project)}/issues/{iid}/notes",
        what=f"Issue #{iid} in {project}",
        json={"body": body, "internal": internal or None},
    )
    return pick(data, NOTE_FIELDS)


# --- across projects -----------------------------------------------------------------------------
State = Literal["opened", "closed", "all"]


def _cross(items: list[dict[str, Any]], meta: dict[str, int | None]) -> dict[str, Any]:
    """Issues of several projects: each carries its full reference (group/project#iid)."""
    out = []
    for item in items:
        issue = _issue(item, LIST_FIELDS)
        issue["reference"] = (item.get("references") or {}).get("full")
        out.append(issue)
    return {"items": out, **meta}


@tool(READ, "issues", routes=("GET /groups/:id/issues",))
async def list_group_issues(
    group: Annotated[str, Field(description="Group id or full path, e.g. 'my-group'.", min_length=1)],
    state: State = "opened",
    labels: Labels = None,
    search: Search = None,
    assignee_username: Username = None,
    author_username: Username = None,
    milestone: Annotated[str | None, Field(description="Milestone title, or 'None' / 'Any'.")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the issues of every project in a group (and its subgroups), newest first, with filters.
    Each item has a full reference (group/project#iid)."""
    params = {"state": state, "labels": _labels(labels), "search": search, "milestone": milestone}
    params |= {"assignee_username": assignee_username, "author_username": author_username}
    items, meta = await gitlab().page(
        f"/groups/{path_id(group)}/issues", what=f"Group {group}", page=page, per_page=per_page, params=params
    )
    return _cross(items, meta)


@tool(READ, "issues", routes=("GET /issues",))
async def list_my_issues(
    scope: Literal["assigned_to_me", "created_by_me"] = "assigned_to_me",
    state: State = "opened",
    labels: Labels = None,
    search: Search = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List issues assigned to you (or created by you) across all of GitLab, newest first.
    Each item has a full reference (group/project#iid)."""
    params = {"scope": scope, "state": state, "labels": _labels(labels), "search": search}
    items, meta = await gitlab().page("/issues", what="Your issues", page=page, per_page=per_page, params=params)
    return _cross(items, meta)


# --- changing an issue -----------------------------------------------------------------------------
@tool(WRITE, "issues", routes=("PUT /projects/:id/issues/:issue_iid",))
async def update_issue(
    project: ProjectRef,
    iid: Iid,
    title: NewTitle = None,
    description: NewBody = None,
    state_event: Literal["close", "reopen"] | None = None,
    labels: Annotated[list[str] | None, Field(description="Replace all labels; [] removes them.")] = None,
    add_labels: AddLabels = None,
    remove_labels: RemoveLabels = None,
    assignee_ids: Annotated[list[int] | None, Field(description="User ids; replaces assignees, [] unassigns.")] = None,
    milestone_id: Annotated[int | None, Field(description="Milestone id; 0 removes the milestone.", ge=0)] = None,
    due_date: Annotated[
        str | None, Field(description="YYYY-MM-DD; '' clears it.", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    ] = None,
    confidential: Annotated[bool | None, Field(description="Visible only to reporters and up.")] = None,
    discussion_locked: Annotated[bool | None, Field(description="Only members may comment.")] = None,
) -> dict[str, Any]:
    """Change an issue: title, description, close/reopen, labels, assignees, milestone, due date,
    confidentiality, lock. Only the given fields change. Returns the updated issue."""
    body: dict[str, Any] = {"title": title, "description": description, "state_event": state_event}
    body |= {"add_labels": _labels(add_labels), "remove_labels": _labels(remove_labels)}
    body |= {"assignee_ids": assignee_ids, "milestone_id": milestone_id, "due_date": due_date}
    body |= {"confidential": confidential, "discussion_locked": discussion_locked}
    if labels is not None:
        body["labels"] = ",".join(labels)  # "" removes every label
    data = await gitlab().put(
        f"/projects/{path_id(project)}/issues/{iid}", what=f"Issue #{iid} in {project}", json=body
    )
    return _issue(data, DETAIL_FIELDS)


@tool(DESTRUCTIVE, "issues", routes=("DELETE /projects/:id/issues/:issue_iid",))
async def delete_issue(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Delete an issue for good (project owners only); to just close it use update_issue."""
    await gitlab().delete(f"/projects/{path_id(project)}/issues/{iid}", what=f"Issue #{iid} in {project}")
    return {"deleted": True, "iid": iid}


@tool(
    WRITE,
    "issues",
    routes=(
        "GET /projects/:id",
        "POST /projects/:id/issues/:issue_iid/move",
    ),
)
async def move_issue(
    project: ProjectRef,
    iid: Iid,
    to_project: Annotated[str, Field(description="Target project id or full path.", min_length=1)],
) -> dict[str, Any]:
    """Move an issue to another project: the original is closed and points to the new one (moved_to_id).
    Returns the new issue."""
    path = f"/projects/{path_id(project)}/issues/{iid}/move"  # an unsafe project is refused before any call
    target = to_project.strip()
    if not target.isdigit():
        target = str((await gitlab().get(f"/projects/{path_id(target)}", what=f"Project {to_project}"))["id"])
    data = await gitlab().post(path, what=f"Issue #{iid} in {project}", json={"to_project_id": int(target)})
    result = _issue(data, DETAIL_FIELDS)
    result["reference"] = (data.get("references") or {}).get("full")
    return result


@tool(WRITE, "issues", routes=("PUT /projects/:id/issues/:issue_iid/notes/:note_id",))
async def update_issue_note(
    project: ProjectRef,
    iid: Iid,
    note_id: Annotated[int, Field(description="The note's id (from list_issue_notes).", ge=1)],
    body: Annotated[str, Field(description="The new text, in GitLab Markdown.", min_length=1)],
) -> dict[str, Any]:
    """Edit the text of your own comment on an issue. Returns the note."""
    data = await gitlab().put(
        f"/projects/{path_id(project)}/issues/{iid}/notes/{note_id}",
        what=f"Note {note_id} on issue #{iid} in {project}",
        json={"body": body},
    )
    return pick(data, NOTE_FIELDS)
