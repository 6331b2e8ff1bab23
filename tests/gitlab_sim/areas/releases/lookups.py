"""Releases and their tags: finding a release, who may see or create them, and a release as GitLab shows
it (doc/api/releases/_index.md)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.repository import commits_of, public_commit
from tests.gitlab_sim.http import (
    Call,
    error,
    not_found,
)
from tests.gitlab_sim.world import MAINTAINER, REPORTER, SIM_URL, World, now

Release = dict[str, Any]


SOURCE_FORMATS = ("zip", "tar.gz", "tar.bz2", "tar")


# --- tags and releases ----------------------------------------------------------------------------
def tag_sha(world: World, pid: int, name: str) -> str | None:
    """The commit a tag points at: this area's own tags first, then another area's `tags` table if any."""
    for row in world.table("release_tags"):
        if row["project_id"] == pid and row["name"] == name:
            return str(row["target"])
    for row in world.rows.get("tags", []):
        if row.get("project_id") == pid and row.get("name") == name:
            commit = row.get("commit")
            return str(commit.get("id") if isinstance(commit, dict) else commit)
    return None


def can_create_tag(world: World, pid: int, level: int, name: str) -> bool:
    """Gitlab::UserAccess#can_create_tag?: a protected tag (another area's table, if any) needs its level."""
    rules = [p for p in world.rows.get("protected_tags", []) if p.get("project_id") == pid]
    rules = [p for p in rules if fnmatchcase(name, str(p.get("name")))]
    return not rules or any(0 < int(p.get("create_access_level", MAINTAINER)) <= level for p in rules)


def find_release(world: World, pid: int, tag: str) -> Release | None:
    return next((r for r in world.table("releases") if r["project_id"] == pid and r["tag_name"] == tag), None)


def can_download_code(call: Call, project: dict[str, Any]) -> bool:
    return project["visibility"] != "private" or call.world.access_level(call.user_id, project["id"]) >= REPORTER


def render(call: Call, release: Release) -> dict[str, Any]:
    """Entities::Release: tag, commit and sources only for those who may download the code."""
    world, project = call.world, call.world.projects[release["project_id"]]
    full, tag = project["path_with_namespace"], release["tag_name"]
    web = f"{SIM_URL}/{full}/-/releases/{quote(tag, safe='')}"
    code = can_download_code(call, project)
    links = [render_link(world, link) for link in links_of(world, release)]
    sources = [
        {"format": f, "url": f"{SIM_URL}/{full}/-/archive/{tag}/{project['path']}-{tag}.{f}"} for f in SOURCE_FORMATS
    ]
    commit = commits_of(world, project["id"]).get(release["sha"])
    data: dict[str, Any] = {"name": release["name"]}
    if code:
        data["tag_name"] = tag
    data |= {
        "description": release["description"],
        "created_at": release["created_at"],
        "released_at": release["released_at"],
        "author": world.user_ref(release["author_id"]),
    }
    if code:
        data["commit"] = public_commit(commit) if commit else {"id": release["sha"], "short_id": release["sha"][:8]}
    data["upcoming_release"] = release["released_at"] > now()
    data["historical_release"] = release["released_at"] < release["created_at"]
    milestones = [m for m in world.table("milestones") if m["id"] in release["milestone_ids"]]
    if milestones:
        data["milestones"] = [milestone_with_stats(world, m) for m in milestones]
    data["commit_path"] = f"/{full}/-/commit/{release['sha']}"
    data["tag_path"] = f"/{full}/-/tags/{tag}"
    data["assets"] = {"count": len(sources) + len(links), **({"sources": sources} if code else {}), "links": links}
    if code:
        data["evidences"] = []
    data["_links"] = {"self": web, "edit_url": f"{web}/edit"}
    return data


def milestone_with_stats(world: World, milestone: dict[str, Any]) -> dict[str, Any]:
    issues = [i for i in world.table("issues") if (i.get("milestone") or {}).get("id") == milestone["id"]]
    stats = {"total": len(issues), "closed": sum(1 for i in issues if i["state"] == "closed")}
    return {**milestone, "issue_stats": stats}


def links_of(world: World, release: Release) -> list[dict[str, Any]]:
    # Releases::Link.sorted: newest first.
    rows = [link for link in world.table("release_links") if link["release_id"] == release["id"]]
    return sorted(rows, key=lambda link: (link["created_at"], link["id"]), reverse=True)


def render_link(world: World, link: dict[str, Any]) -> dict[str, Any]:
    release = next(r for r in world.table("releases") if r["id"] == link["release_id"])
    project = world.projects[release["project_id"]]
    direct = link["url"]
    if link["filepath"]:
        direct = f"{project['web_url']}/-/releases/{quote(release['tag_name'], safe='')}/downloads{link['filepath']}"
    keys = ("id", "name", "url")
    return {**{k: link[k] for k in keys}, "direct_asset_url": direct, "link_type": link["link_type"]}


def release_project(call: Call, *, write: bool) -> dict[str, Any] | Response:
    """The project of a release call: 401 for a write without a user, 404 when hidden."""
    if write and call.user_id is None:
        return error(401, "401 Unauthorized")
    project = readable_project(call)
    return not_found("Project") if project is None else project


def level(call: Call, project: dict[str, Any]) -> int:
    return call.world.access_level(call.user_id, project["id"])
