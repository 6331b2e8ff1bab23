"""Merge requests: find them (in a project, a group, or yours everywhere), read one, open and change
them (doc/api/merge_requests.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import AddLabels, Iid, NewTitle, Page, PerPage, ProjectRef, RemoveLabels, Search
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import listed, listing, pick

LIST_FIELDS = (
    "iid",
    "title",
    "state",
    "draft",
    "author",
    "assignees",
    "reviewers",
    "source_branch",
    "target_branch",
    "labels",
    "detailed_merge_status",
    "updated_at",
    "web_url",
)
DETAIL_FIELDS = (
    *LIST_FIELDS,
    "id",
    "project_id",
    "description",
    "merge_status",
    "has_conflicts",
    "blocking_discussions_resolved",
    "sha",
    "merge_commit_sha",
    "squash_commit_sha",
    "merge_user",
    "merged_at",
    "closed_by",
    "closed_at",
    "created_at",
    "user_notes_count",
    "changes_count",
    "merge_error",
)
PIPELINE_FIELDS = ("id", "status", "ref", "sha", "web_url")


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests",))
async def list_merge_requests(
    project: ProjectRef,
    state: Annotated[Literal["opened", "closed", "merged", "locked", "all"], Field(description="MR state.")] = "opened",
    labels: Annotated[list[str] | None, Field(description="Only MRs with all these labels.")] = None,
    search: Search = None,
    author_username: Annotated[str | None, Field(description="Only MRs opened by this user.")] = None,
    reviewer_username: Annotated[str | None, Field(description="Only MRs this user is a reviewer of.")] = None,
    source_branch: Annotated[str | None, Field(description="Only MRs from this branch.")] = None,
    target_branch: Annotated[str | None, Field(description="Only MRs into this branch.")] = None,
    draft: Annotated[bool | None, Field(description="true: only drafts; false: no drafts.")] = None,
    order_by: Annotated[
        Literal["updated_at", "created_at", "merged_at", "title"], Field(description="Sort key.")
    ] = "updated_at",
    sort: Annotated[Literal["desc", "asc"], Field(description="Sort direction.")] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's merge requests (open ones by default), most recently updated first, filtered by
    labels, text, author, reviewer, branches or draft status. Returns iid, title, people, branches and
    merge status of each, plus pagination."""
    params = {"state": state, "labels": ",".join(labels) if labels else None, "search": search}
    params |= {"author_username": author_username, "reviewer_username": reviewer_username}
    params |= {"source_branch": source_branch, "target_branch": target_branch, "order_by": order_by, "sort": sort}
    # The project list filters drafts with wip=yes|no (doc/api/merge_requests.md#list-project-merge-requests).
    params["wip"] = None if draft is None else "yes" if draft else "no"
    path = f"/projects/{path_id(project)}/merge_requests"
    return await listed(path, f"Project {project}", page, per_page, LIST_FIELDS, params)


@tool(READ, "merge_requests", routes=("GET /projects/:id/merge_requests/:merge_request_iid",))
async def get_merge_request(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Get one merge request by iid (!12): title, description, state, branches, author, assignees, reviewers,
    mergeability (detailed_merge_status, has_conflicts), head SHA and its latest pipeline."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}"
    data = await gitlab().get(path, what=f"Merge request !{iid} in {project}")
    result = pick(data, DETAIL_FIELDS)
    result["milestone"] = (data.get("milestone") or {}).get("title")
    result["reference"] = (data.get("references") or {}).get("full")
    # head_pipeline carries more than the older `pipeline`; either may be null (doc/api/merge_requests.md).
    pipeline = data.get("head_pipeline") or data.get("pipeline")
    result["pipeline"] = pick(pipeline, PIPELINE_FIELDS) if pipeline else None
    return result


# --- across projects -------------------------------------------------------------------------------
ACROSS_FIELDS = (*LIST_FIELDS, "references")
State = Annotated[Literal["opened", "closed", "merged", "locked", "all"], Field(description="MR state.")]
Labels = Annotated[list[str] | None, Field(description="Only MRs with all these labels.")]


def _across(items: list[dict[str, Any]], meta: dict[str, int | None]) -> dict[str, Any]:
    """MRs from several projects: each names its project through `reference` (group/project!iid)."""
    result = listing(items, meta, ACROSS_FIELDS)
    for mr in result["items"]:
        mr["reference"] = (mr.pop("references", None) or {}).get("full")
    return result


@tool(READ, "merge_requests", routes=("GET /groups/:id/merge_requests",))
async def list_group_merge_requests(
    group: Annotated[str, Field(description="Group id or full path (e.g. 'my-group/sub').", min_length=1)],
    state: State = "opened",
    labels: Labels = None,
    search: Search = None,
    author_username: Annotated[str | None, Field(description="Only MRs opened by this user.")] = None,
    reviewer_username: Annotated[str | None, Field(description="Only MRs this user is a reviewer of.")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the merge requests of every project in a group and its subgroups (open ones by default), most
    recently updated first. Each item's `reference` (group/project!iid) names its project."""
    params = {"state": state, "labels": ",".join(labels) if labels else None, "search": search}
    params |= {"author_username": author_username, "reviewer_username": reviewer_username}
    params |= {"order_by": "updated_at", "sort": "desc"}
    items, meta = await gitlab().page(
        f"/groups/{path_id(group)}/merge_requests", what=f"Group {group}", page=page, per_page=per_page, params=params
    )
    return _across(items, meta)


@tool(READ, "merge_requests", routes=("GET /merge_requests",))
async def list_my_merge_requests(
    scope: Annotated[
        Literal["assigned_to_me", "reviews_for_me", "created_by_me"],
        Field(description="reviews_for_me: where your review is requested."),
    ] = "assigned_to_me",
    state: State = "opened",
    search: Search = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """Your merge requests across all of GitLab: assigned to you, awaiting your review, or opened by you.
    Most recently updated first; each item's `reference` (group/project!iid) names its project."""
    params = {"scope": scope, "state": state, "search": search, "order_by": "updated_at", "sort": "desc"}
    items, meta = await gitlab().page(
        "/merge_requests", what="Merge requests", page=page, per_page=per_page, params=params
    )
    return _across(items, meta)


# --- writing ---------------------------------------------------------------------------------------
DRAFT_PREFIX = re.compile(r"^\s*(\[draft\]|\(draft\)|draft:)\s*", re.IGNORECASE)  # MergeRequest::DRAFT_REGEX
WRITE_FIELDS = (*DETAIL_FIELDS, "force_remove_source_branch", "squash")
UserIds = Annotated[list[int] | None, Field(description="GitLab user ids (not usernames); [] clears them.")]
Draft = Annotated[bool | None, Field(description="true: mark as draft (not mergeable); false: ready.")]


def _drafted(title: str, draft: bool | None) -> str:
    # A draft is an MR whose title starts with "Draft:" (doc/api/merge_requests.md: no draft parameter).
    bare = DRAFT_PREFIX.sub("", title)
    return title if draft is None else f"Draft: {bare}" if draft else bare


def _written(data: dict[str, Any]) -> dict[str, Any]:
    result = pick(data, WRITE_FIELDS)
    result["reference"] = (data.get("references") or {}).get("full")
    return result


@tool(WRITE, "merge_requests", routes=("POST /projects/:id/merge_requests",))
async def create_merge_request(
    project: ProjectRef,
    source_branch: Annotated[str, Field(description="Branch with the changes.", min_length=1)],
    target_branch: Annotated[str, Field(description="Branch to merge into, e.g. the default branch.", min_length=1)],
    title: Annotated[str, Field(description="MR title.", min_length=1, max_length=255)],
    description: Annotated[
        str | None, Field(description="Body, in GitLab Markdown ('Closes #12' links issues).")
    ] = None,
    labels: Annotated[list[str] | None, Field(description="Label names.")] = None,
    assignee_ids: UserIds = None,
    reviewer_ids: UserIds = None,
    draft: Annotated[bool, Field(description="Open as a draft (not mergeable until marked ready).")] = False,
    remove_source_branch: Annotated[bool | None, Field(description="Delete the source branch when merged.")] = None,
    squash: Annotated[bool | None, Field(description="Squash the commits into one when merged.")] = None,
) -> dict[str, Any]:
    """Open a merge request from a branch (push the branch first). Returns the new MR with its iid, URL and
    merge status; fails if an open MR already exists for the same branches."""
    body: dict[str, Any] = {"source_branch": source_branch, "target_branch": target_branch}
    body |= {"title": _drafted(title, draft or None), "description": description}
    body |= {"labels": ",".join(labels) if labels else None, "assignee_ids": assignee_ids, "reviewer_ids": reviewer_ids}
    body |= {"remove_source_branch": remove_source_branch, "squash": squash}
    data = await gitlab().post(f"/projects/{path_id(project)}/merge_requests", what=f"Project {project}", json=body)
    return _written(data)


@tool(
    WRITE,
    "merge_requests",
    routes=(
        "GET /projects/:id/merge_requests/:merge_request_iid",
        "PUT /projects/:id/merge_requests/:merge_request_iid",
    ),
)
async def update_merge_request(
    project: ProjectRef,
    iid: Iid,
    title: NewTitle = None,
    description: Annotated[str | None, Field(description="New body (replaces it), in GitLab Markdown.")] = None,
    labels: Annotated[list[str] | None, Field(description="Replace all labels; [] removes them all.")] = None,
    add_labels: AddLabels = None,
    remove_labels: RemoveLabels = None,
    assignee_ids: UserIds = None,
    reviewer_ids: UserIds = None,
    target_branch: Annotated[str | None, Field(description="New target branch.", min_length=1)] = None,
    state_event: Literal["close", "reopen"] | None = None,
    draft: Draft = None,
) -> dict[str, Any]:
    """Change a merge request: title, description, labels, assignees, reviewers, target branch, draft
    status, or close/reopen it. Only the arguments you pass change. Returns the updated MR."""
    path = f"/projects/{path_id(project)}/merge_requests/{iid}"
    what = f"Merge request !{iid} in {project}"
    if draft is not None and title is None:
        title = (await gitlab().get(path, what=what))["title"]
    joined = {name: None if v is None else ",".join(v) for name, v in (("labels", labels), ("add_labels", add_labels))}
    body: dict[str, Any] = {"title": _drafted(title, draft) if title else None, "description": description}
    body |= joined | {"remove_labels": ",".join(remove_labels) if remove_labels else None}
    body |= {"assignee_ids": assignee_ids, "reviewer_ids": reviewer_ids, "target_branch": target_branch}
    body["state_event"] = state_event
    return _written(await gitlab().put(path, what=what, json=body))
