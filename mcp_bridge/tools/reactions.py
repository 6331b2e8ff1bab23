"""Emoji reactions on issues and merge requests, issue subscriptions and participants
(doc/api/emoji_reactions.md, doc/api/issues.md)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.errors import GitLabForbidden
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Iid, Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import listed, listing, pick

Target = Annotated[Literal["issue", "merge_request"], Field(description="Whether iid is an issue or a merge request.")]
AWARD_FIELDS = ("id", "name", "user", "created_at")
USER_FIELDS = ("id", "username", "name")


def issuable(project: str, target: str, iid: int) -> tuple[str, str]:
    """The API path of an issue or merge request, and how errors name it."""
    if target == "issue":
        return f"/projects/{path_id(project)}/issues/{iid}", f"Issue #{iid} in {project}"
    return f"/projects/{path_id(project)}/merge_requests/{iid}", f"Merge request !{iid} in {project}"


def issuable_routes(method: str, tail: str) -> tuple[str, str]:
    """The routes of one request on an issue and on a merge request, below the paths issuable gives."""
    return (
        f"{method} /projects/:id/issues/:issue_iid/{tail}",
        f"{method} /projects/:id/merge_requests/:merge_request_iid/{tail}",
    )


@tool(READ, "issues", routes=issuable_routes("GET", "award_emoji"))
async def list_emoji_reactions(
    project: ProjectRef, target: Target, iid: Iid, page: Page = 1, per_page: PerPage = 100
) -> dict[str, Any]:
    """List the emoji reactions on an issue or merge request: who reacted with what (award ids for
    remove_emoji_reaction), plus a count per emoji."""
    path, what = issuable(project, target, iid)
    items, meta = await gitlab().page(f"{path}/award_emoji", what=what, page=page, per_page=per_page)
    result = listing(items, meta, AWARD_FIELDS)
    result["counts"] = dict(Counter(item["name"] for item in items))
    return result


@tool(WRITE, "issues", routes=issuable_routes("POST", "award_emoji"))
async def add_emoji_reaction(
    project: ProjectRef,
    target: Target,
    iid: Iid,
    name: Annotated[str, Field(description="Emoji name without colons, e.g. thumbsup, tada, eyes.", min_length=1)],
) -> dict[str, Any]:
    """React to an issue or merge request with an emoji (thumbsup counts as an upvote). Returns the reaction."""
    path, what = issuable(project, target, iid)
    data = await gitlab().post(f"{path}/award_emoji", what=f"Emoji reaction on {what}", json={"name": name.strip(":")})
    return pick(data, AWARD_FIELDS)


@tool(
    WRITE,
    "issues",
    routes=(
        *issuable_routes("GET", "award_emoji/:award_id"),
        "GET /user",
        *issuable_routes("DELETE", "award_emoji/:award_id"),
    ),
)
async def remove_emoji_reaction(
    project: ProjectRef,
    target: Target,
    iid: Iid,
    award_id: Annotated[int, Field(description="The reaction's id (from list_emoji_reactions).", ge=1)],
) -> dict[str, Any]:
    """Remove one of your own emoji reactions from an issue or merge request."""
    path, what = issuable(project, target, iid)
    where = f"Emoji reaction {award_id} on {what}"
    award, me = await asyncio.gather(
        gitlab().get(f"{path}/award_emoji/{award_id}", what=where), gitlab().get("/user", what="The current user")
    )
    # GitLab answers 401 for someone else's reaction, which reads as a dead token (and would refresh it).
    if (award.get("user") or {}).get("id") != me.get("id"):
        owner = (award.get("user") or {}).get("username")
        raise GitLabForbidden(f"{where} is @{owner}'s; you can only remove your own reactions.", 403)
    await gitlab().delete(f"{path}/award_emoji/{award_id}", what=where)
    return {"deleted": True, "award_id": award_id, "name": award.get("name")}


async def _subscription(project: str, iid: int, action: str, wanted: bool) -> dict[str, Any]:
    path, what = issuable(project, "issue", iid)
    data = await gitlab().post(f"{path}/{action}", what=what)
    # 304 Not Modified (no body) when it already was so (doc/api/issues.md#subscribe-to-an-issue).
    return {"iid": iid, "subscribed": data.get("subscribed", wanted) if data else wanted, "changed": bool(data)}


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/subscribe",))
async def subscribe_to_issue(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Get notifications for every change and comment on an issue. changed=false if you already were."""
    return await _subscription(project, iid, "subscribe", True)


@tool(WRITE, "issues", routes=("POST /projects/:id/issues/:issue_iid/unsubscribe",))
async def unsubscribe_from_issue(project: ProjectRef, iid: Iid) -> dict[str, Any]:
    """Stop notifications for an issue (until you comment or are mentioned). changed=false if not subscribed."""
    return await _subscription(project, iid, "unsubscribe", False)


@tool(READ, "issues", routes=("GET /projects/:id/issues/:issue_iid/participants",))
async def list_issue_participants(
    project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """The people involved in an issue: author, assignees and commenters (id, username, name)."""
    path, what = issuable(project, "issue", iid)
    return await listed(f"{path}/participants", what, page, per_page, USER_FIELDS)
