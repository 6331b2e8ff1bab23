"""Simulated GitLab API: what a merge request review needs beyond the basics (doc/api/merge_requests.md,
doc/api/draft_notes.md): reviewers with their review state, diff versions, conflicts, cancelling
auto-merge, merge request pipelines, and changing, deleting or publishing one draft note.

Rows: "mr_reviewer_states" {project_id, iid, user_id, state} (a reviewer without a row is unreviewed);
"mr_conflicts" {project_id, iid, path, ours, theirs, base_line}: the conflicting hunks of an MR, from
which both the conflicts answer and its raw markers are built. Versions are built from the MR itself:
one per push, each with the diff_refs of that push (acme/app !1 has two).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas import discussions
from tests.gitlab_sim.areas.merge_requests import (
    can_merge,
    detail,
    merge_request_in_path,
    mr_commits,
    refresh,
)
from tests.gitlab_sim.areas.pipelines import new_pipeline
from tests.gitlab_sim.http import Call, Router, error, forbidden, not_found, paginate
from tests.gitlab_sim.world import DEVELOPER, World, now

REVIEW_STATES = ("unreviewed", "review_started", "reviewed", "requested_changes", "approved", "unapproved")
VERSION_FIELDS = (
    "id", "head_commit_sha", "base_commit_sha", "start_commit_sha", "created_at", "merge_request_id", "state",
    "real_size", "patch_id_sha",
)  # fmt: skip


def register(router: Router) -> None:
    mr = "/projects/:id/merge_requests/:merge_request_iid"
    router.route("GET", f"{mr}/reviewers")(list_reviewers)
    router.route("GET", f"{mr}/versions")(list_versions)
    router.route("GET", f"{mr}/versions/:version_id")(get_version)
    router.route("GET", f"{mr}/conflicts")(list_conflicts)
    router.route("POST", f"{mr}/cancel_merge_when_pipeline_succeeds")(cancel_auto_merge)
    router.route("POST", f"{mr}/pipelines")(create_pipeline)
    router.route("PUT", f"{mr}/draft_notes/:draft_note_id")(update_draft)
    router.route("DELETE", f"{mr}/draft_notes/:draft_note_id")(delete_draft)
    router.route("PUT", f"{mr}/draft_notes/:draft_note_id/publish")(publish_draft)


def seed(world: World) -> None:
    """acme/app !1: alice reviewed it and asked for changes; !6 conflicts in app/http.py with release/1.0."""
    world.table("mr_reviewer_states").append({"project_id": 101, "iid": 1, "user_id": 1, "state": "requested_changes"})
    world.table("mr_conflicts").append({
        "project_id": 101, "iid": 6, "path": "app/http.py", "base_line": 20,
        "ours": ["client = Client(timeout=10)"], "theirs": ["client = Client(timeout=30)"],
    })  # fmt: skip


# --- reviewers -----------------------------------------------------------------------------------
async def list_reviewers(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    states = {
        r["user_id"]: r["state"]
        for r in call.world.table("mr_reviewer_states")
        if (r["project_id"], r["iid"]) == (mr["project_id"], mr["iid"])
    }
    return JSONResponse([
        {"user": reviewer, "state": states.get(reviewer["id"], "unreviewed"), "created_at": mr["created_at"]}
        for reviewer in mr["reviewers"]
    ])  # fmt: skip


# --- diff versions -------------------------------------------------------------------------------
def versions(world: World, mr: dict[str, Any]) -> list[dict[str, Any]]:
    """One version per commit of the MR (a push each), newest first, as MergeRequestDiff rows."""
    commits = list(reversed(mr_commits(world, mr))) or [{"id": mr["sha"], "created_at": mr["created_at"]}]
    base = mr["diff_refs"]["base_sha"]
    out = []
    for n, commit in enumerate(commits, start=1):
        out.append({
            "id": mr["id"] * 100 + n, "head_commit_sha": commit["id"], "base_commit_sha": base,
            "start_commit_sha": mr["diff_refs"]["start_sha"], "created_at": commit.get("created_at") or now(),
            "merge_request_id": mr["id"], "state": "collected", "real_size": mr["changes_count"],
            "patch_id_sha": f"{commit['id'][:20]}{'0' * 20}",
        })  # fmt: skip
    return list(reversed(out))


async def list_versions(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    return paginate(call, versions(call.world, mr))


async def get_version(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    wanted = call.params["version_id"]
    version = next((v for v in versions(call.world, mr) if str(v["id"]) == wanted), None)
    if version is None:
        return not_found()
    rows = [r for r in call.world.table("mr_diffs") if (r["project_id"], r["iid"]) == (mr["project_id"], mr["iid"])]
    diffs = [{k: v for k, v in r.items() if k not in ("project_id", "iid")} for r in rows]
    commits = [c for c in mr_commits(call.world, mr)]
    return JSONResponse(version | {"commits": commits, "diffs": diffs})


# --- conflicts -----------------------------------------------------------------------------------
async def list_conflicts(call: Call) -> Response:
    """The conflicting files with git's markers, as MergeRequests::Conflicts::ListService reads them.
    Developer role (it pushes the resolution); an MR without conflicts answers 404."""
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    if call.world.access_level(call.user_id, mr["project_id"]) < DEVELOPER:
        return forbidden()
    rows = [r for r in call.world.table("mr_conflicts") if (r["project_id"], r["iid"]) == (mr["project_id"], mr["iid"])]
    if not mr["has_conflicts"] or not rows:
        return error(404, "404 Conflicts Not Found")
    files = []
    for row in rows:
        content = "".join((
            f"<<<<<<< {mr['target_branch']}\n", *(f"{line}\n" for line in row["ours"]), "=======\n",
            *(f"{line}\n" for line in row["theirs"]), f">>>>>>> {mr['source_branch']}\n",
        ))  # fmt: skip
        files.append({
            "old_path": row["path"], "new_path": row["path"], "conflict_type": "both_modified",
            "first_line": row["base_line"], "content": content,
        })  # fmt: skip
    return JSONResponse(files)


# --- auto-merge and pipelines --------------------------------------------------------------------
async def cancel_auto_merge(call: Call) -> Response:
    """lib/api/merge_requests.rb: 401 without the right to merge, 405 when not open, 406 when not set."""
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    if not can_merge(call.world, call.user_id, mr) and mr.get("merge_user", {}) != call.world.user_ref(
        call.user_id or 0
    ):
        return error(401, "401 Unauthorized")
    if mr["state"] != "opened":
        return error(405, "405 Method Not Allowed")
    if not mr["merge_when_pipeline_succeeds"]:
        return error(406, "406 Not Acceptable")
    mr |= {"merge_when_pipeline_succeeds": False, "merge_user": None}
    refresh(call.world, mr)
    return JSONResponse(detail(call, mr), status_code=201)


async def create_pipeline(call: Call) -> Response:
    """A merge request pipeline on refs/merge-requests/:iid/head (Developer role)."""
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    if call.world.access_level(call.user_id, mr["project_id"]) < DEVELOPER:
        return forbidden()
    if mr["state"] != "opened":
        return error(400, {"base": ["Merge request is not open"]})
    project = call.world.projects[mr["project_id"]]
    ref = f"refs/merge-requests/{mr['iid']}/head"
    pipeline = new_pipeline(
        call.world, project, ref, mr["sha"], tag=False, source="merge_request_event", user_id=call.user_id or 0
    )
    mr["head_pipeline"] = {**pipeline}
    refresh(call.world, mr)
    return JSONResponse(pipeline, status_code=201)


# --- one draft note ------------------------------------------------------------------------------
def _draft(call: Call) -> tuple[dict[str, Any], dict[str, Any]] | Response:
    mr = discussions.merge_request_in_path(call, missing="")
    if isinstance(mr, Response):
        return mr
    wanted = call.params["draft_note_id"]
    draft = next((d for d in discussions.my_drafts(call, mr) if str(d["id"]) == wanted), None)
    return (mr, draft) if draft is not None else not_found()


async def update_draft(call: Call) -> Response:
    found = _draft(call)
    if isinstance(found, Response):
        return found
    _, draft = found
    position = discussions.position_arg(call)
    if isinstance(position, Response):
        return position
    text = call.arg("note")
    if text is not None:
        if not str(text).strip():
            return error(400, {"note": ["can't be blank"]})
        draft["note"] = str(text)
    if position is not None:
        draft["position"] = discussions.empty_position() | position
    return JSONResponse({k: draft[k] for k in discussions.DRAFT_FIELDS})


async def delete_draft(call: Call) -> Response:
    found = _draft(call)
    if isinstance(found, Response):
        return found
    call.world.table("draft_notes").remove(found[1])
    return Response(status_code=204)


async def publish_draft(call: Call) -> Response:
    found = _draft(call)
    if isinstance(found, Response):
        return found
    mr, draft = found
    discussions.publish(call, mr, draft)
    call.world.table("draft_notes").remove(draft)
    return Response(status_code=204)
