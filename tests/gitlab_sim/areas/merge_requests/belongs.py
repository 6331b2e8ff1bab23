"""What belongs to a merge request: its commits, pipelines, participants and the issues it closes; the
merge requests of a commit (doc/api/merge_requests.md, doc/api/commits.md)."""

from __future__ import annotations

import re

from starlette.responses import Response

from tests.gitlab_sim.areas.issues import can_see as can_see_issue
from tests.gitlab_sim.areas.merge_requests.reading import PIPELINE_BASIC, list_entity, merge_request_in_path
from tests.gitlab_sim.areas.merge_requests.states import mr_commits
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.repository import (
    resolve,
)
from tests.gitlab_sim.http import (
    Call,
    not_found,
    paginate,
)


# --- what belongs to an MR ----------------------------------------------------------------------------
async def list_commits(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    return paginate(call, mr_commits(call.world, mr))


async def list_pipelines(call: Call) -> Response:
    """Ci::PipelinesForMergeRequestFinder: MR pipelines and the source branch's, newest first."""
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    refs = (f"refs/merge-requests/{mr['iid']}/head", mr["source_branch"])
    rows = [p for p in call.world.table("pipelines") if p["project_id"] == mr["project_id"] and p["ref"] in refs]
    found = [{k: p[k] for k in PIPELINE_BASIC} for p in rows]
    if mr["pipeline"] and all(p["id"] != mr["pipeline"]["id"] for p in found):
        found.append({k: mr["pipeline"].get(k) for k in PIPELINE_BASIC})
    return paginate(call, sorted(found, key=lambda p: p["id"], reverse=True))


async def list_closes_issues(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world, pid = call.world, mr["project_id"]
    wanted = closing_iids(f"{mr['title']}\n{mr['description'] or ''}")
    issues = [i for i in world.table("issues") if i["project_id"] == pid and i["iid"] in wanted]
    visible = [i for i in issues if can_see_issue(world, call.user_id, i)]
    return paginate(call, [{k: v for k, v in i.items() if not k.startswith("_")} for i in visible])


def closing_iids(text: str) -> list[int]:
    """Issue numbers after GitLab's default closing pattern: Closes/Fixes/Resolves/Implements #1, #2 and #3."""
    found: list[int] = []
    for refs in CLOSING.findall(text):
        found.extend(int(n) for n in re.findall(r"#(\d+)", refs))
    return list(dict.fromkeys(found))


CLOSING = re.compile(
    r"\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):? +"
    r"((?:issues? +)?#\d+(?:(?: *,? +and +| *,? *)#\d+)*)",
    re.IGNORECASE,
)


async def list_participants(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world, key = call.world, (mr["project_id"], mr["iid"])
    people = [mr["author"], *mr["assignees"], *mr["reviewers"]]
    # Commenters too (the discussions area's notes), but not the authors of system notes.
    notes = [n for n in world.table("notes") if n.get("noteable_type") == "MergeRequest" and not n.get("system")]
    people += [n["author"] for n in notes if n.get("noteable_id") == mr["id"]]
    people += [world.user_ref(a["user_id"]) for a in world.table("mr_approvals") if (a["project_id"], a["iid"]) == key]
    unique = {p["id"]: world.user_ref(p["id"]) for p in people if p and p["id"] in world.users}
    return paginate(call, list(unique.values()))


async def list_commit_merge_requests(call: Call) -> Response:
    """GET /projects/:id/repository/commits/:sha/merge_requests (doc/api/commits.md)."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    commit = resolve(call.world, project, call.params["sha"])
    if commit is None:
        return not_found("Commit")
    world, sha = call.world, commit["id"]
    mrs = [mr for mr in world.table("merge_requests") if mr["project_id"] == project["id"]]
    mrs = [
        mr for mr in mrs
        if sha in (mr["merge_commit_sha"], mr["squash_commit_sha"]) or sha in {c["id"] for c in mr_commits(world, mr)}
    ]  # fmt: skip
    if state := call.arg("state"):
        mrs = [mr for mr in mrs if mr["state"] == state]
    return paginate(call, [list_entity(mr, None) for mr in mrs])
