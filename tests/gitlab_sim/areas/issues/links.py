"""Issue links: relates_to and blocks (doc/api/issue_links.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.issues.reading import can_see, find_issue, unauthorized, visible_issues
from tests.gitlab_sim.areas.issues.rows import Issue
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    error,
    invalid_value,
    missing_param,
    not_found,
)
from tests.gitlab_sim.world import GUEST, World, now

# --- links (doc/api/issue_links.md) ----------------------------------------------------------------
LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")


INVERSE = {"relates_to": "relates_to", "blocks": "is_blocked_by", "is_blocked_by": "blocks"}


NO_LINK_PERMISSION = "Couldn't link issues. You must have at least the Guest role in both projects."


def _issue_by_id(world: World, issue_id: int) -> Issue | None:
    return next((i for i in world.table("issues") if i["id"] == issue_id), None)


def _readable(call: Call, issue: Issue | None) -> bool:
    project = call.world.projects[issue["project_id"]] if issue else None
    return bool(
        issue and project and call.world.can_read(call.user_id, project) and can_see(call.world, call.user_id, issue)
    )


def _links_of(call: Call, issue: Issue) -> list[tuple[dict[str, Any], Issue, str]]:
    """(link, the other issue, link type as seen from `issue`), oldest link first, hidden issues left out."""
    found = []
    for link in sorted(call.world.table("issue_links"), key=lambda k: k["id"]):
        if issue["id"] == link["source_id"]:
            other, kind = _issue_by_id(call.world, link["target_id"]), link["link_type"]
        elif issue["id"] == link["target_id"]:
            other, kind = _issue_by_id(call.world, link["source_id"]), INVERSE[link["link_type"]]
        else:
            continue
        if other is not None and _readable(call, other):
            found.append((link, other, kind))
    return found


async def list_links(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    related = [
        {**other, "issue_link_id": link["id"], "link_type": kind}
        | {"link_created_at": link["created_at"], "link_updated_at": link["updated_at"]}
        for link, other, kind in _links_of(call, issue)
    ]
    return JSONResponse(related)


async def create_link(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    for name in ("target_project_id", "target_issue_iid"):
        if call.arg(name) is None:
            return missing_param(name)
    kind = call.arg("link_type", "relates_to")
    if kind not in LINK_TYPES:
        return invalid_value("link_type")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    source = find_issue(call, project)
    if source is None:
        return not_found()
    world = call.world
    target_project = world.find_project(str(call.arg("target_project_id")))
    if target_project is None or not world.can_read(call.user_id, target_project):
        return not_found("Project")
    target = next(
        (i for i in visible_issues(call, target_project) if str(i["iid"]) == str(call.arg("target_issue_iid"))), None
    )
    if target is None:
        return not_found()
    if min(world.access_level(call.user_id, p["id"]) for p in (project, target_project)) < GUEST:
        return error(403, NO_LINK_PERMISSION)
    if target["id"] == source["id"]:
        return error(422, "Source cannot be related to itself.")
    if any(other["id"] == target["id"] for _, other, _ in _links_of(call, source)):
        return error(409, "Issue(s) already assigned")
    link = add_link(world, source, target, kind)
    return JSONResponse(_link_body(call, link), status_code=201)


def add_link(world: World, source: Issue, target: Issue, kind: str) -> dict[str, Any]:
    if kind == "is_blocked_by":  # stored the other way round, as GitLab does
        source, target, kind = target, source, "blocks"
    when = now()
    link = {"id": world.next_id(), "source_id": source["id"], "target_id": target["id"], "link_type": kind}
    link |= {"created_at": when, "updated_at": when}
    world.table("issue_links").append(link)
    return link


def _link_body(call: Call, link: dict[str, Any]) -> dict[str, Any]:
    """Entities::IssueLink: both issues (IssueBasic) and the type."""
    source, target = _issue_by_id(call.world, link["source_id"]), _issue_by_id(call.world, link["target_id"])
    return {"source_issue": source, "target_issue": target, "link_type": link["link_type"]}


async def delete_link(call: Call) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    wanted = call.params["issue_link_id"]
    found = next(((link, other) for link, other, _ in _links_of(call, issue) if str(link["id"]) == wanted), None)
    if found is None:
        return not_found()  # IssueLink.for_source_or_target(issue).find raises RecordNotFound
    link, other = found
    levels = [call.world.access_level(call.user_id, i["project_id"]) for i in (issue, other)]
    if max(levels) < GUEST:
        return error(404, "No Issue Link found")  # IssueLinks::DestroyService without admin_issue_link
    body = _link_body(call, link)
    call.world.table("issue_links").remove(link)
    return JSONResponse(body)
