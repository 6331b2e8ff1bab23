"""Labels and milestones of projects and groups (doc/api/labels.md, group_labels.md, milestones.md,
group_milestones.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Date, NewDescription, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick
from mcp_bridge.tools.parents import Parent, Twin, twins

LABEL_FIELDS = (
    "id",
    "name",
    "color",
    "description",
    "priority",
    "is_project_label",
    "open_issues_count",
    "closed_issues_count",
    "open_merge_requests_count",
)
MILESTONE_FIELDS = ("id", "iid", "title", "description", "state", "start_date", "due_date", "expired", "web_url")
ISSUE_FIELDS = ("iid", "title", "state", "labels", "assignees", "due_date", "web_url")
MR_FIELDS = ("iid", "title", "state", "source_branch", "target_branch", "author", "labels", "web_url")

LabelRef = Annotated[str, Field(description="Label name or id.", min_length=1)]
MilestoneId = Annotated[int, Field(description="Milestone id (the 'id' field, not the iid).", ge=1)]
Color = Annotated[str, Field(description="'#RRGGBB' or a CSS colour name, e.g. 'red'.", min_length=1)]
Search = Annotated[str | None, Field(description="Text in the name or description.")]
# Counts cost GitLab issue and MR counting for every label of the page; large projects answer faster without.
Counts = Annotated[bool, Field(description="Issue/MR counts per label; false is faster on large projects.")]


def _label(project: str, label: str) -> str:
    return f"/projects/{path_id(project)}/labels/{path_id(label)}"


def _milestone(project: str, milestone_id: int) -> str:
    return f"/projects/{path_id(project)}/milestones/{milestone_id}"


# One implementation for a milestone's issues and merge requests.
async def _milestone_items(
    project: str, milestone_id: int, kind: str, fields: tuple[str, ...], page: int, per_page: int
) -> dict[str, Any]:
    path, what = f"{_milestone(project, milestone_id)}/{kind}", f"Milestone {milestone_id} in {project}"
    return await listed(path, what, page, per_page, fields)


@twins(
    READ,
    "labels_milestones",
    routes=("GET /{parents}/:id/labels",),
    project=Twin(
        "list_labels",
        "List or search a project's labels (its groups' too) by name, with colour, description and counts of "
        "open/closed issues and open merge requests.",
    ),
    group=Twin(
        "list_group_labels",
        "List or search a group's labels (shared by all its projects) with colour, description and issue/MR counts.",
    ),
)
async def list_parent_labels(
    parent: Parent, search: Search = None, with_counts: Counts = True, page: Page = 1, per_page: PerPage = 50
) -> dict[str, Any]:
    params = {"with_counts": with_counts, "search": search}
    path, what = f"{parent.path}/labels", f"Labels of {parent.name}"
    return await listed(path, what, page, per_page, LABEL_FIELDS, params)


@tool(WRITE, "labels_milestones", routes=("POST /projects/:id/labels",))
async def create_label(
    project: ProjectRef,
    name: Annotated[str, Field(description="Label name, e.g. 'bug' or 'priority::high'.", min_length=1)],
    color: Color,
    description: Annotated[str | None, Field(description="What the label means.")] = None,
) -> dict[str, Any]:
    """Create a project label (Reporter role). Fails if a label of that name exists in the project or its group."""
    data = await gitlab().post(
        f"/projects/{path_id(project)}/labels",
        what=f"Label {name} in {project}",
        json={"name": name, "color": color, "description": description},
    )
    return pick(data, LABEL_FIELDS)


@tool(WRITE, "labels_milestones", routes=("PUT /projects/:id/labels/:label_id",))
async def update_label(
    project: ProjectRef,
    label: LabelRef,
    new_name: Annotated[str | None, Field(description="Rename to this; issues and MRs keep the label.")] = None,
    color: Annotated[str | None, Field(description="'#RRGGBB' or a CSS colour name.")] = None,
    description: NewDescription = None,
) -> dict[str, Any]:
    """Rename a project label or change its colour or description (at least one). Group labels are not
    editable here."""
    data = await gitlab().put(
        _label(project, label),
        what=f"Label {label} in {project}",
        json={"new_name": new_name, "color": color, "description": description},
    )
    return pick(data, LABEL_FIELDS)


@tool(DESTRUCTIVE, "labels_milestones", routes=("DELETE /projects/:id/labels/:label_id",))
async def delete_label(project: ProjectRef, label: LabelRef) -> dict[str, Any]:
    """Delete a project label; it disappears from every issue and merge request that had it."""
    await gitlab().delete(_label(project, label), what=f"Label {label} in {project}")
    return {"deleted": True, "label": label}


@twins(
    READ,
    "labels_milestones",
    routes=("GET /{parents}/:id/milestones",),
    project=Twin(
        "list_milestones",
        "List a project's milestones (active ones by default), soonest due first: id, title, dates, state.",
    ),
    group=Twin(
        "list_group_milestones",
        "List a group's milestones (active ones by default), shared by its projects: id, title, dates, state.",
    ),
)
async def list_parent_milestones(
    parent: Parent,
    state: Literal["active", "closed", "all"] = "active",
    search: Annotated[str | None, Field(description="Text in the title or description.")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    params = {"state": state, "search": search}
    path, what = f"{parent.path}/milestones", f"Milestones of {parent.name}"
    return await listed(path, what, page, per_page, MILESTONE_FIELDS, params)


@tool(READ, "labels_milestones", routes=("GET /projects/:id/milestones/:milestone_id",))
async def get_milestone(project: ProjectRef, milestone_id: MilestoneId) -> dict[str, Any]:
    """Get one project milestone: title, description, state, start and due dates, URL."""
    data = await gitlab().get(_milestone(project, milestone_id), what=f"Milestone {milestone_id} in {project}")
    return pick(data, MILESTONE_FIELDS)


@tool(WRITE, "labels_milestones", routes=("POST /projects/:id/milestones",))
async def create_milestone(
    project: ProjectRef,
    title: Annotated[str, Field(description="Milestone title, unique in the project.", min_length=1)],
    description: Annotated[str | None, Field(description="Description, in Markdown.")] = None,
    start_date: Date = None,
    due_date: Date = None,
) -> dict[str, Any]:
    """Create a project milestone (Reporter role). Returns it with its id, used to assign issues to it."""
    body = {"title": title, "description": description, "start_date": start_date, "due_date": due_date}
    data = await gitlab().post(
        f"/projects/{path_id(project)}/milestones", what=f"Milestone {title} in {project}", json=body
    )
    return pick(data, MILESTONE_FIELDS)


@tool(WRITE, "labels_milestones", routes=("PUT /projects/:id/milestones/:milestone_id",))
async def update_milestone(
    project: ProjectRef,
    milestone_id: MilestoneId,
    title: Annotated[str | None, Field(description="New title.")] = None,
    description: NewDescription = None,
    start_date: Date = None,
    due_date: Date = None,
    state_event: Annotated[Literal["close", "activate"] | None, Field(description="Close or reopen it.")] = None,
) -> dict[str, Any]:
    """Change a project milestone's title, description or dates, or close/reopen it (at least one)."""
    body = {"title": title, "description": description, "start_date": start_date, "due_date": due_date}
    data = await gitlab().put(
        _milestone(project, milestone_id),
        what=f"Milestone {milestone_id} in {project}",
        json={**body, "state_event": state_event},
    )
    return pick(data, MILESTONE_FIELDS)


@tool(READ, "labels_milestones", routes=("GET /projects/:id/milestones/:milestone_id/issues",))
async def list_milestone_issues(
    project: ProjectRef, milestone_id: MilestoneId, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List the issues assigned to a project milestone, open and closed: iid, title, state, labels, assignees."""
    return await _milestone_items(project, milestone_id, "issues", ISSUE_FIELDS, page, per_page)


@tool(READ, "labels_milestones", routes=("GET /projects/:id/milestones/:milestone_id/merge_requests",))
async def list_milestone_merge_requests(
    project: ProjectRef, milestone_id: MilestoneId, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List the merge requests of a project milestone, any state: iid, title, state, branches, author."""
    return await _milestone_items(project, milestone_id, "merge_requests", MR_FIELDS, page, per_page)
