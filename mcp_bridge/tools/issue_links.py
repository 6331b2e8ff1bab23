"""What an issue is linked to: other issues (relates to, blocks, is blocked by) and the merge requests
that mention or close it (doc/api/issue_links.md, doc/api/issues.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick

LINK_FIELDS = ("issue_link_id", "link_type", "iid", "title", "state", "project_id", "web_url")
MR_FIELDS = ("iid", "project_id", "title", "state", "author", "source_branch", "target_branch", "web_url")


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid/links",))
async def list_issue_links(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """List the issues linked to an issue (relates_to, blocks, is_blocked_by), with each link's id."""
    items = await gitlab().get(f"/projects/{path_id(project)}/issues/{iid}/links", what=f"Issue #{iid} in {project}")
    links = []
    for item in items:
        link = pick(item, LINK_FIELDS)
        link["reference"] = (item.get("references") or {}).get("full")
        links.append(link)
    return {"items": links}


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/links",))
async def create_issue_link(
    project: ProjectRef,
    iid: Iid,
    target_issue_iid: Annotated[int, Field(description="The other issue's iid.", ge=1)],
    target_project: Annotated[str | None, Field(description="The other issue's project; default: same.")] = None,
    link_type: Literal["relates_to", "blocks", "is_blocked_by"] = "relates_to",
) -> dict[str, Any]:
    """Link two issues (this issue relates_to/blocks/is_blocked_by the target)."""
    data = await gitlab().post(
        f"/projects/{path_id(project)}/issues/{iid}/links",
        what=f"Issue #{iid} in {project}",
        json={
            "target_project_id": target_project or project,
            "target_issue_iid": target_issue_iid,
            "link_type": link_type,
        },
    )
    ref = ("iid", "project_id", "title")
    return {
        "source_issue": pick(data.get("source_issue") or {}, ref),
        "target_issue": pick(data.get("target_issue") or {}, ref),
        "link_type": data.get("link_type"),
    }


@tool(DESTRUCTIVE, "issues", routes=("DELETE /projects/:id/issues/:issue_iid/links/:issue_link_id",))
async def delete_issue_link(
    project: ProjectRef,
    iid: Iid,
    issue_link_id: Annotated[int, Field(description="The link's id (from list_issue_links).", ge=1)],
) -> dict[str, Any]:
    """Remove a link between two issues (both issues stay)."""
    await gitlab().delete(
        f"/projects/{path_id(project)}/issues/{iid}/links/{issue_link_id}", what=f"Link {issue_link_id} of issue #{iid}"
    )
    return {"deleted": True, "issue_link_id": issue_link_id}


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid/related_merge_requests",))
async def list_issue_related_merge_requests(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List the merge requests that mention an issue (in their description or comments)."""
    return await listed(
        f"/projects/{path_id(project)}/issues/{iid}/related_merge_requests",
        f"Issue #{iid} in {project}",
        page,
        per_page,
        MR_FIELDS,
    )


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid/closed_by",))
async def list_issue_closed_by_merge_requests(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List merge requests that close an issue when merged ("Closes #12" in their description)."""
    return await listed(
        f"/projects/{path_id(project)}/issues/{iid}/closed_by", f"Issue #{iid} in {project}", page, per_page, MR_FIELDS
    )
