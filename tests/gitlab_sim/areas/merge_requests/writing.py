"""Creating, updating, merging and rebasing a merge request (doc/api/merge_requests.md)."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas import instance, merge_checks
from tests.gitlab_sim.areas.branches import remove_branch
from tests.gitlab_sim.areas.commits import as_author
from tests.gitlab_sim.areas.merge_requests.reading import merge_request_in_path
from tests.gitlab_sim.areas.merge_requests.states import (
    REBASE_FAILED,
    SAME_BRANCH,
    UPDATE_PARAMS,
    can_merge,
    detail,
    merge_request_row,
    mr_commits,
    people_of,
    record_commits,
    refresh,
)
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.repository import (
    can_push,
    commit_files,
    commits_of,
    file_diffs,
    find_branch,
    history,
    protections,
    tree_at,
)
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_value,
    not_found,
    param_error,
)
from tests.gitlab_sim.world import DEVELOPER, World, now


# --- create, update, merge, rebase ------------------------------------------------------------------
async def create_merge_request(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    missing = [name for name in ("title", "source_branch", "target_branch") if call.arg(name) is None]
    if missing:
        return param_error(", ".join(f"{name} is missing" for name in missing))
    world, pid = call.world, project["id"]
    if world.access_level(call.user_id, pid) < DEVELOPER:
        return forbidden()
    source, target = str(call.arg("source_branch")), str(call.arg("target_branch"))
    if source == target:
        return error(422, [SAME_BRANCH])
    unknown = {name: ["does not exist"] for name, b in (("source_branch", source), ("target_branch", target))}
    unknown = {name: v for name, v in unknown.items() if find_branch(world, pid, str(call.arg(name))) is None}
    if unknown:
        return error(400, unknown)
    rows = world.table("merge_requests")
    same = [m for m in rows if m["project_id"] == pid and m["state"] == "opened" and m["source_branch"] == source]
    if clash := next((m for m in same if m["target_branch"] == target), None):
        return error(409, [f"Another open merge request already exists for this source branch: !{clash['iid']}"])
    mr = _new_merge_request(call, project, source, target)
    return JSONResponse(detail(call, mr), status_code=201)


def _new_merge_request(call: Call, project: dict[str, Any], source: str, target: str) -> dict[str, Any]:
    world, pid, when = call.world, project["id"], now()
    iid = 1 + max((m["iid"] for m in world.table("merge_requests") if m["project_id"] == pid), default=0)
    author = world.users[call.user_id or 0]["username"]
    mr = merge_request_row(world, pid, iid, str(call.arg("title")), author, source, "opened", "", "", "", 1, None)
    heads = {b: find_branch(world, pid, b)["head"] for b in (source, target)}  # type: ignore[index]
    mr |= {"created_at": when, "updated_at": when, "prepared_at": when, "target_branch": target}
    mr |= {"description": call.arg("description") or "", "labels": sorted(set(call.arg_list("labels")))}
    mr |= {"force_remove_source_branch": bool(call.flag("remove_source_branch")), "squash": bool(call.flag("squash"))}
    mr |= {"sha": heads[source], "latest_build_started_at": None, "user_notes_count": 0}
    mr["diff_refs"] = {"base_sha": heads[target], "head_sha": heads[source], "start_sha": heads[target]}
    people_of(mr, call)
    world.table("merge_requests").append(mr)
    for entry in file_diffs(tree_at(world, pid, heads[target]), tree_at(world, pid, heads[source])):
        world.table("mr_diffs").append({"project_id": pid, "iid": iid, "collapsed": False, "too_large": False, **entry})
    mr["changes_count"] = str(sum(1 for d in world.table("mr_diffs") if (d["project_id"], d["iid"]) == (pid, iid)))
    record_commits(world, mr, mr_commits(world, mr))
    refresh(world, mr, touched=False)
    return mr


async def update_merge_request(call: Call) -> Response:
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    if all(call.arg(name) is None for name in UPDATE_PARAMS):
        return param_error(f"{', '.join(UPDATE_PARAMS)} are missing, at least one parameter must be provided")
    for name in ("title", "target_branch"):
        if call.arg(name) is not None and not str(call.arg(name)).strip():
            return param_error(f"{name} is empty")
    if call.arg("state_event") not in (None, "close", "reopen"):
        return invalid_value("state_event")
    world = call.world
    if world.access_level(call.user_id, mr["project_id"]) < DEVELOPER and mr["author"]["id"] != call.user_id:
        return forbidden()
    if call.arg("target_branch") == mr["source_branch"]:
        return error(422, [SAME_BRANCH])
    for name in ("title", "description", "target_branch", "discussion_locked"):
        if call.arg(name) is not None:
            mr[name] = call.flag(name) if name == "discussion_locked" else str(call.arg(name))
    for name, key in (("remove_source_branch", "force_remove_source_branch"), ("squash", "squash")):
        if call.arg(name) is not None:
            mr[key] = bool(call.flag(name))
    labels = call.arg_list("labels") if call.arg("labels") is not None else mr["labels"]
    removed = {label.lower() for label in call.arg_list("remove_labels")}
    labels = [label for label in [*labels, *call.arg_list("add_labels")] if label.lower() not in removed]
    mr["labels"] = sorted(dict.fromkeys(labels))
    people_of(mr, call)
    _change_state(world, mr, call.arg("state_event"), call.user_id)
    refresh(world, mr)
    return JSONResponse(detail(call, mr))


def _change_state(world: World, mr: dict[str, Any], event: str | None, user_id: int | None) -> None:
    if event == "close" and mr["state"] == "opened":
        mr |= {"state": "closed", "closed_by": world.user_ref(user_id or 0), "closed_at": now()}
    elif event == "reopen" and mr["state"] == "closed":
        mr |= {"state": "opened", "closed_by": None, "closed_at": None}


async def merge_merge_request(call: Call) -> Response:
    """lib/api/merge_requests.rb: 401 without the right to merge, 405 when checks fail, 422 on conflicts,
    409 when `sha` is not the head; auto_merge waits for a running pipeline (or approvals, threads)."""
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world = call.world
    if not can_merge(world, call.user_id, mr):
        return error(401, "401 Unauthorized")
    # `auto_merge` came in GitLab 17.11; older versions ignore it and merge at once (or refuse).
    understood = instance.at_least(world, 17, 11)
    auto = bool(call.flag("merge_when_pipeline_succeeds") or (understood and call.flag("auto_merge")))
    status = mr["detailed_merge_status"]
    waits = merge_checks.AUTO_MERGEABLE if understood else merge_checks.AUTO_MERGEABLE_BEFORE_17_11
    automatically = auto and status in waits
    immediately = status == "mergeable" if auto else status in ("mergeable", "conflict")
    if not immediately and not automatically:
        return error(405, "405 Method Not Allowed")
    if not automatically and status == "conflict":
        return error(422, "Branch cannot be merged")
    if call.arg("sha") is not None and call.arg("sha") != mr["sha"]:
        return error(409, f"SHA does not match HEAD of source branch: {mr['sha']}")
    if call.flag("squash"):
        mr["squash"] = True
    if automatically:
        mr |= {"merge_when_pipeline_succeeds": True, "merge_user": world.user_ref(call.user_id or 0)}
    else:
        _merge(call, mr)
    refresh(world, mr)
    return JSONResponse(detail(call, mr))


def _merge(call: Call, mr: dict[str, Any]) -> None:
    """A squash commit if asked, then the merge commit, on the target branch; the MR's changes land there."""
    world, pid, uid = call.world, mr["project_id"], call.user_id or 0
    project = world.projects[pid]
    source, target = find_branch(world, pid, mr["source_branch"]), find_branch(world, pid, mr["target_branch"])
    commits = mr_commits(world, mr)
    record_commits(world, mr, commits)
    user = world.user_ref(uid)
    mr |= {"state": "merged", "merged_by": user, "merge_user": user, "merged_at": now()}
    mr["merge_when_pipeline_succeeds"] = False
    if target is None:  # a target branch the repository does not model
        mr["merge_commit_sha"] = hashlib.sha1(f"merge {pid} {mr['iid']}".encode(), usedforsecurity=False).hexdigest()
        return
    base, head, files = target["head"], mr["sha"], dict(tree_at(world, pid, target["head"]))
    if source is not None:
        rows, changed = commits_of(world, pid), tree_at(world, pid, source["head"])
        touched = {p for c in commits for p in rows[c["id"]]["paths"]}
        files = {p: d for p, d in files.items() if p not in touched} | {p: changed[p] for p in touched if p in changed}
    if mr["squash"]:
        squash = commit_files(
            world, project, target["name"], user_id=uid, message=mr["title"], files=files, parent=base
        )
        author = world.users[mr["author"]["id"]]
        as_author(world, squash, {"author_name": author["name"], "author_email": author["email"]} | {
            "authored_date": squash["authored_date"]})  # fmt: skip
        mr["squash_commit_sha"] = head = squash["id"]
    full = f"{project['path_with_namespace']}!{mr['iid']}"
    branches = f"'{mr['source_branch']}' into '{mr['target_branch']}'"
    message = f"Merge branch {branches}\n\n{mr['title']}\n\nSee merge request {full}"
    merge = commit_files(
        world, project, target["name"], user_id=uid, message=message, files=files, parent=target["head"]
    )
    merge["parent_ids"] = [base, head]
    if mr["squash"]:
        merge["paths"] = commits_of(world, pid)[head]["paths"]
    mr["merge_commit_sha"] = merge["id"]
    remove = call.flag("should_remove_source_branch")
    wanted = mr["force_remove_source_branch"] if remove is None else remove
    if (
        wanted
        and source
        and not protections(world, pid, source["name"])
        and source["name"] != project["default_branch"]
    ):
        remove_branch(world, pid, source["name"])


async def rebase_merge_request(call: Call) -> Response:
    """202 {"rebase_in_progress": true}; the rebase itself runs later (here: at once). A failure lands
    in the MR's merge_error (MergeRequests::RebaseService)."""
    mr = merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world, pid = call.world, mr["project_id"]
    if find_branch(world, pid, mr["source_branch"]) is None:
        return error(403, "403 Forbidden - Source branch does not exist")
    if not can_push(world, world.projects[pid], call.user_id, mr["source_branch"]):
        return error(403, "403 Forbidden - Cannot push to source branch")
    if mr["has_conflicts"]:
        mr["merge_error"] = REBASE_FAILED
    else:
        _rebase(call, mr)
    return JSONResponse({"rebase_in_progress": True}, status_code=202)


def _rebase(call: Call, mr: dict[str, Any]) -> None:
    """Replay the MR's commits, oldest first, on the target's head; the source branch moves to the last."""
    world, pid = call.world, mr["project_id"]
    source, target = find_branch(world, pid, mr["source_branch"]), find_branch(world, pid, mr["target_branch"])
    assert source is not None
    mr["merge_error"] = None
    if target is None or target["head"] in {c["id"] for c in history(world, pid, source["head"])}:
        return  # already on top of the target
    rows, parent = commits_of(world, pid), target["head"]
    files = dict(tree_at(world, pid, parent))
    for commit in reversed(mr_commits(world, mr)):
        row, tree = rows[commit["id"]], tree_at(world, pid, commit["id"])
        files = {p: d for p, d in files.items() if p not in row["paths"] or p in tree}
        files |= {p: tree[p] for p in row["paths"] if p in tree}
        copy = commit_files(world, world.projects[pid], source["name"], user_id=call.user_id or 0,
                            message=row["message"], files=files, parent=parent)  # fmt: skip
        as_author(world, copy, row)
        parent = copy["id"]
    mr["sha"] = parent
    mr["diff_refs"] = {"base_sha": target["head"], "head_sha": parent, "start_sha": target["head"]}
