"""Issues: find, read and open them, and read and write their comments (doc/api/issues.md, doc/api/notes.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import path_id
from mcp_bridge.toolkit import READ, WRITE, Iid, Page, PerPage, ProjectRef, gitlab, listing, pick, tool

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


@tool(READ, "issues")
async def list_issues(
    project: ProjectRef,
    state: Literal["opened", "closed", "all"] = "opened",
    labels: Labels = None,
    search: Annotated[str | None, Field(description="Text to find in title or description.")] = None,
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
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/issues", what=f"Project {project}", page=page, per_page=per_page, params=params
    )
    return {"items": [_issue(item, LIST_FIELDS) for item in items], **meta}


@tool(READ, "issues")
async def get_issue(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Get one issue by its number (iid): title, full description, state, labels, assignees, milestone,
    due date and comment count. Read its comments with list_issue_notes."""
    data = await gitlab().get(f"/projects/{path_id(project)}/issues/{iid}", what=f"Issue #{iid} in {project}")
    return _issue(data, DETAIL_FIELDS)


@tool(WRITE, "issues")
async def create_issue(
    project: ProjectRef,
    title: Annotated[str, Field(description="Issue title.", min_length=1, max_length=255)],
    description: Annotated[str | None, Field(description="Body, in GitLab Markdown.")] = None,
    labels: Annotated[list[str] | None, Field(description="Label names; missing labels are created.")] = None,
    assignee_ids: Annotated[
        list[int] | None, Field(description="GitLab user ids (not usernames); get_current_user gives yours.")
    ] = None,
    confidential: Annotated[bool, Field(description="Visible only to reporters and up.")] = False,
    due_date: Annotated[str | None, Field(description="YYYY-MM-DD.", pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    milestone_id: Annotated[int | None, Field(description="Global id of the project's milestone.")] = None,
) -> dict[str, Any]:
    """Open a new issue in a project, authored by you. Returns the created issue with its iid and URL."""
    body: dict[str, Any] = {"title": title, "description": description, "labels": _labels(labels)}
    body |= {"assignee_ids": assignee_ids, "milestone_id": milestone_id, "due_date": due_date}
    body["confidential"] = confidential or None
    data = await gitlab().post(f"/projects/{path_id(project)}/issues", what=f"Project {project}", json=body)
    return _issue(data, DETAIL_FIELDS)


@tool(READ, "issues")
async def list_issue_notes(
    project: ProjectRef,
    iid: Iid,
    sort: Annotated[Literal["asc", "desc"], Field(description="asc = oldest first.")] = "asc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the comments on an issue, oldest first by default, including system notes (label, assignee
    and state changes, marked system=true). Returns body, author and date for each, plus pagination."""
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/issues/{iid}/notes",
        what=f"Issue #{iid} in {project}",
        page=page,
        per_page=per_page,
        params={"sort": sort, "order_by": "created_at"},
    )
    return listing(items, meta, NOTE_FIELDS)


@tool(WRITE, "issues")
async def create_issue_note(
    project: ProjectRef,
    iid: Iid,
    body: Annotated[str, Field(description="The comment, in GitLab Markdown.", min_length=1)],
    internal: Annotated[bool, Field(description="Internal note, visible only to reporters and up.")] = False,
) -> dict[str, Any]:
    """Comment on an issue as yourself. Returns the new note (id, body, author, date)."""
    data = await gitlab().post(
        f"/projects/{path_id(project)}/issues/{iid}/notes",
        what=f"Issue #{iid} in {project}",
        json={"body": body, "internal": internal or None},
    )
    return pick(data, NOTE_FIELDS)
