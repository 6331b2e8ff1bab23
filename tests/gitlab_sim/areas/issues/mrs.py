"""The merge requests of an issue: those that close it and those that mention it (doc/api/issues.md)."""

from __future__ import annotations

import re

from starlette.responses import Response

from tests.gitlab_sim.areas.issues.reading import find_issue, unauthorized
from tests.gitlab_sim.areas.issues.rows import Issue
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    not_found,
    paginate,
)

# --- merge requests of an issue --------------------------------------------------------------------
CLOSING = re.compile(
    r"\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):? +#(\d+)\b", re.I
)


MR_FIELDS_DROPPED = ("pipeline", "head_pipeline", "diff_refs", "changes_count", "user", "merge_error", "subscribed")


def _mentions(text: str | None, issue: Issue, same_project: bool) -> bool:
    full = re.escape(issue["references"]["full"])
    pattern = rf"(?<![\w/]){full}\b" + (rf"|(?<![\w/])#{issue['iid']}\b" if same_project else "")
    return bool(re.search(pattern, text or ""))


def _issue_merge_requests(call: Call, *, closing: bool) -> Response:
    if call.user_id is None:
        return unauthorized()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    issue = find_issue(call, project)
    if issue is None:
        return not_found()
    world, found = call.world, []
    notes = world.table("notes")
    for mr in world.table("merge_requests"):
        if not world.can_read(call.user_id, world.projects[mr["project_id"]]):
            continue
        same = mr["project_id"] == issue["project_id"]
        if closing:
            hit = same and str(issue["iid"]) in CLOSING.findall(mr["description"] or "")
        else:
            texts = [mr["title"], mr["description"]]
            texts += [n["body"] for n in notes if n["noteable_type"] == "MergeRequest" and n["noteable_id"] == mr["id"]]
            hit = any(_mentions(text, issue, same) for text in texts)
        if hit:
            found.append({k: v for k, v in mr.items() if k not in MR_FIELDS_DROPPED})
    return paginate(call, sorted(found, key=lambda mr: mr["id"]))


async def related_merge_requests(call: Call) -> Response:
    return _issue_merge_requests(call, closing=False)


async def closed_by(call: Call) -> Response:
    return _issue_merge_requests(call, closing=True)
