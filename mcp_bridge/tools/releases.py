"""Releases and their asset links (doc/api/releases/index.md, doc/api/releases/links.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick, slim_schema

LIST_FIELDS = ("tag_name", "name", "released_at", "created_at", "author", "upcoming_release")
DETAIL_FIELDS = (*LIST_FIELDS, "description", "historical_release", "commit", "milestones", "assets")
LINK_FIELDS = ("id", "name", "url", "direct_asset_url", "link_type")

TagName = Annotated[str, Field(description="The release's tag, e.g. 'v1.2.0'.", min_length=1)]
Milestones = Annotated[list[str] | None, Field(description="Milestone titles of the project.")]
ReleasedAt = Annotated[datetime | None, Field(description="Release time (ISO 8601); past or future.")]
LinkType = Literal["other", "runbook", "image", "package"]
AssetPath = Annotated[
    str | None, Field(description="Permanent path under the release, e.g. '/bin/app-linux'.", pattern=r"^/")
]


class AssetLink(BaseModel):
    model_config = ConfigDict(json_schema_extra=slim_schema)

    name: Annotated[str, Field(description="Link name, unique in the release.", min_length=1)]
    url: Annotated[str, Field(description="http(s) or ftp URL of the asset.", min_length=1)]
    direct_asset_path: AssetPath = None
    link_type: LinkType = "other"


def _release(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """A release trimmed to `fields`: commit, milestones and assets shrink to what a reader needs."""
    release = pick(data, fields)
    release["web_url"] = (data.get("_links") or {}).get("self")
    if isinstance(release.get("commit"), dict):
        release["commit"] = pick(release["commit"], ("id", "short_id", "title"))
    if "milestones" in release:
        release["milestones"] = [m.get("title") for m in release["milestones"] or []]
    if isinstance(release.get("assets"), dict):
        assets = release["assets"]
        release["assets"] = {
            "links": [pick(link, LINK_FIELDS) for link in assets.get("links") or []],
            "sources": {s.get("format"): s.get("url") for s in assets.get("sources") or []},
        }
    return release


def _where(project: str, tag_name: str) -> str:
    return f"Release {tag_name} in {project}"


@tool(READ, "releases", routes=("GET /projects/:id/releases",))
async def list_releases(
    project: ProjectRef,
    order_by: Literal["released_at", "created_at"] = "released_at",
    sort: Literal["asc", "desc"] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's releases, newest first: tag, name, release date, author and whether it is upcoming.
    Read notes and assets with get_release."""
    return await listed(
        f"/projects/{path_id(project)}/releases",
        f"Releases of {project}",
        page,
        per_page,
        lambda item: _release(item, LIST_FIELDS),
        {"order_by": order_by, "sort": sort},
    )


@tool(READ, "releases", routes=("GET /projects/:id/releases/:tag_name",))
async def get_release(project: ProjectRef, tag_name: TagName) -> dict[str, Any]:
    """Get one release by its tag: notes (description), author, dates, commit, milestones, asset links and
    source archive URLs."""
    data = await gitlab().get(
        f"/projects/{path_id(project)}/releases/{path_id(tag_name)}", what=_where(project, tag_name)
    )
    return _release(data, DETAIL_FIELDS)


@tool(WRITE, "releases", routes=("POST /projects/:id/releases",))
async def create_release(
    project: ProjectRef,
    tag_name: TagName,
    ref: Annotated[str | None, Field(description="Branch or SHA to tag when the tag does not exist yet.")] = None,
    name: Annotated[str | None, Field(description="Release title; the tag name if omitted.")] = None,
    description: Annotated[str | None, Field(description="Release notes, in GitLab Markdown.")] = None,
    milestones: Milestones = None,
    released_at: ReleasedAt = None,
    links: Annotated[list[AssetLink] | None, Field(description="Asset links to attach.")] = None,
) -> dict[str, Any]:
    """Create a release for a tag (Developer role). If the tag does not exist, pass ref and GitLab creates it.
    Returns the release as get_release does."""
    body: dict[str, Any] = {"tag_name": tag_name, "ref": ref, "name": name, "description": description}
    body |= {"milestones": milestones, "released_at": released_at.isoformat() if released_at else None}
    if links:
        body["assets"] = {"links": [link.model_dump(exclude_none=True) for link in links]}
    data = await gitlab().post(f"/projects/{path_id(project)}/releases", what=_where(project, tag_name), json=body)
    return _release(data, DETAIL_FIELDS)


@tool(WRITE, "releases", routes=("PUT /projects/:id/releases/:tag_name",))
async def update_release(
    project: ProjectRef,
    tag_name: TagName,
    name: Annotated[str | None, Field(description="New release title.")] = None,
    description: Annotated[str | None, Field(description="New release notes (replaces them).")] = None,
    milestones: Annotated[
        list[str] | None, Field(description="Milestone titles (replace them); [] removes all.")
    ] = None,
    released_at: ReleasedAt = None,
) -> dict[str, Any]:
    """Change a release's title, notes, milestones or release date; omitted fields stay as they are."""
    body = {"name": name, "description": description, "milestones": milestones}
    body["released_at"] = released_at.isoformat() if released_at else None
    data = await gitlab().put(
        f"/projects/{path_id(project)}/releases/{path_id(tag_name)}", what=_where(project, tag_name), json=body
    )
    return _release(data, DETAIL_FIELDS)


@tool(DESTRUCTIVE, "releases", routes=("DELETE /projects/:id/releases/:tag_name",))
async def delete_release(project: ProjectRef, tag_name: TagName) -> dict[str, Any]:
    """Delete a release and its asset links (Maintainer role). The Git tag is kept."""
    await gitlab().delete(f"/projects/{path_id(project)}/releases/{path_id(tag_name)}", what=_where(project, tag_name))
    return {"deleted": True, "tag_name": tag_name, "tag_kept": True}


@tool(READ, "releases", routes=("GET /projects/:id/releases/:tag_name/assets/links",))
async def list_release_links(
    project: ProjectRef, tag_name: TagName, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List a release's asset links, newest first: id, name, URL, direct asset URL and link type."""
    return await listed(
        f"/projects/{path_id(project)}/releases/{path_id(tag_name)}/assets/links",
        _where(project, tag_name),
        page,
        per_page,
        LINK_FIELDS,
    )


@tool(WRITE, "releases", routes=("POST /projects/:id/releases/:tag_name/assets/links",))
async def create_release_link(
    project: ProjectRef,
    tag_name: TagName,
    name: Annotated[str, Field(description="Link name, unique in the release.", min_length=1)],
    url: Annotated[str, Field(description="http(s) or ftp URL of the asset.", min_length=1)],
    direct_asset_path: AssetPath = None,
    link_type: LinkType = "other",
) -> dict[str, Any]:
    """Attach an asset link (a binary, package, image or runbook URL) to a release. Returns the new link."""
    body = {"name": name, "url": url, "direct_asset_path": direct_asset_path, "link_type": link_type}
    data = await gitlab().post(
        f"/projects/{path_id(project)}/releases/{path_id(tag_name)}/assets/links",
        what=_where(project, tag_name),
        json=body,
    )
    return pick(data, LINK_FIELDS)


@tool(DESTRUCTIVE, "releases", routes=("DELETE /projects/:id/releases/:tag_name/assets/links/:link_id",))
async def delete_release_link(
    project: ProjectRef,
    tag_name: TagName,
    link_id: Annotated[int, Field(description="Link id, from get_release or list_release_links.", ge=1)],
) -> dict[str, Any]:
    """Remove an asset link from a release by its id; the release itself stays."""
    await gitlab().delete(
        f"/projects/{path_id(project)}/releases/{path_id(tag_name)}/assets/links/{link_id}",
        what=f"Link {link_id} of release {tag_name} in {project}",
    )
    return {"deleted": True, "tag_name": tag_name, "link_id": link_id}
