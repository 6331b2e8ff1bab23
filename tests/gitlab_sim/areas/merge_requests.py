"""Simulated GitLab API: merge requests (doc/api/merge_requests.md).

Rows: "merge_requests" holds GitLab's single-MR JSON (list responses drop the detail-only fields);
"mr_diffs" holds one row per changed file, keyed by project_id and iid, in diff order.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas import instance, merge_checks
from tests.gitlab_sim.areas.branches import remove_branch
from tests.gitlab_sim.areas.commits import as_author
from tests.gitlab_sim.areas.groups import can_read_group, descendants, find_group
from tests.gitlab_sim.areas.issues import can_see as can_see_issue
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.repository import (
    can_push,
    commit_files,
    commits_of,
    file_diffs,
    find_branch,
    history,
    protections,
    public_commit,
    resolve,
    tree_at,
)
from tests.gitlab_sim.http import (
    Call,
    Router,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import DEVELOPER, SIM_URL, World, now

STATES = ("opened", "closed", "locked", "merged", "all")
ORDERS = ("created_at", "updated_at", "title", "merged_at")
# Fields of the single-MR response that the list endpoints do not return.
DETAIL_ONLY = frozenset((
    "subscribed", "changes_count", "latest_build_started_at", "latest_build_finished_at",
    "first_deployed_to_production_at", "pipeline", "head_pipeline", "diff_refs", "merge_error", "first_contribution",
    "user",
))  # fmt: skip
SIMPLE_FIELDS = ("id", "iid", "project_id", "title", "description", "state", "created_at", "updated_at", "web_url")
DIFF_FIELDS = (
    "old_path", "new_path", "a_mode", "b_mode", "diff", "collapsed", "too_large", "new_file", "renamed_file",
    "deleted_file", "generated_file",
)  # fmt: skip


def register(router: Router) -> None:
    mr = "/projects/:id/merge_requests/:merge_request_iid"
    router.route("GET", "/merge_requests")(list_all_merge_requests)
    router.route("GET", "/groups/:id/merge_requests")(list_group_merge_requests)
    router.route("GET", "/projects/:id/merge_requests")(list_merge_requests)
    router.route("POST", "/projects/:id/merge_requests")(create_merge_request)
    router.route("GET", mr)(get_merge_request)
    router.route("PUT", mr)(update_merge_request)
    router.route("GET", f"{mr}/diffs")(list_diffs)
    router.route("PUT", f"{mr}/merge")(merge_merge_request)
    router.route("PUT", f"{mr}/rebase")(rebase_merge_request)
    router.route("GET", f"{mr}/approvals")(get_approvals)
    router.route("POST", f"{mr}/approve")(approve)
    router.route("POST", f"{mr}/unapprove")(unapprove)
    router.route("GET", f"{mr}/commits")(list_commits)
    router.route("GET", f"{mr}/pipelines")(list_pipelines)
    router.route("GET", f"{mr}/closes_issues")(list_closes_issues)
    router.route("GET", f"{mr}/participants")(list_participants)
    router.route("GET", "/projects/:id/repository/commits/:sha/merge_requests")(list_commit_merge_requests)


# --- endpoints -----------------------------------------------------------------------------------
async def list_merge_requests(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    problem = _invalid_list_params(call)
    if problem:
        return param_error(problem)
    mrs = [mr for mr in call.world.table("merge_requests") if mr["project_id"] == project["id"]]
    mrs = [mr for mr in mrs if _matches(call, mr)]
    order = call.arg("order_by", "created_at")
    mrs.sort(key=lambda mr: (mr.get(order) or "", mr["id"]), reverse=call.arg("sort", "desc") == "desc")
    fields = SIMPLE_FIELDS if call.arg("view") == "simple" else None
    return paginate(call, [_list_entity(mr, fields) for mr in mrs])


async def get_merge_request(call: Call) -> Response:
    mr = _merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    return JSONResponse(detail(call, mr))


async def list_diffs(call: Call) -> Response:
    mr = _merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    rows = call.world.table("mr_diffs")
    files = [
        {k: r[k] for k in DIFF_FIELDS} for r in rows if (r["project_id"], r["iid"]) == (mr["project_id"], mr["iid"])
    ]
    if call.flag("unidiff"):
        # unidiff=true (GitLab 16.5+) prefixes each diff with its ---/+++ header lines.
        for f in files:
            if f["diff"]:
                old = "/dev/null" if f["new_file"] else f"a/{f['old_path']}"
                new = "/dev/null" if f["deleted_file"] else f"b/{f['new_path']}"
                f["diff"] = f"--- {old}\n+++ {new}\n{f['diff']}"
    return paginate(call, files)


# --- helpers -------------------------------------------------------------------------------------
def find_merge_request(world: World, project_id: int, iid: int) -> dict[str, Any] | None:
    mrs = world.table("merge_requests")
    return next((mr for mr in mrs if mr["project_id"] == project_id and mr["iid"] == iid), None)


def _merge_request_in_path(call: Call) -> dict[str, Any] | Response:
    """The MR named by :id and :merge_request_iid, or GitLab's error response."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["merge_request_iid"].isdigit():
        return invalid_param("merge_request_iid")
    mr = find_merge_request(call.world, project["id"], int(call.params["merge_request_iid"]))
    # A missing MR raises ActiveRecord::RecordNotFound, which the API renders as 404 "404 Not found".
    return mr if mr is not None else not_found()


def _list_entity(mr: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    if fields:
        return {k: mr[k] for k in fields}
    return {k: v for k, v in mr.items() if k not in DETAIL_ONLY}


def _invalid_list_params(call: Call) -> str | None:
    for name, allowed in (("state", STATES), ("order_by", ORDERS), ("sort", ("asc", "desc"))):
        if call.arg(name) is not None and call.arg(name) not in allowed:
            return f"{name} does not have a valid value"
    for pair in (("author_id", "author_username"), ("reviewer_id", "reviewer_username")):
        if all(call.arg(name) is not None for name in pair):
            return f"{', '.join(pair)} are mutually exclusive"
    if call.arg("wip") not in (None, "yes", "no"):
        return "wip does not have a valid value"
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        try:
            _time_match(call.arg(name), "2024-01-01T00:00:00Z", after=True)
        except ValueError:
            return f"{name} is invalid"
    return None


def _matches(call: Call, mr: dict[str, Any]) -> bool:
    """The documented filters of GET /projects/:id/merge_requests, all of which must hold."""
    state = call.arg("state", "all")
    me = call.world.users.get(call.user_id or 0, {}).get("username")
    checks = [
        state == "all" or mr["state"] == state,
        _labels_match(call.arg_list("labels"), mr["labels"]),
        _user_match(call.arg("author_username"), [mr["author"]["username"]]),
        _user_match(call.arg("author_id"), [str(mr["author"]["id"])]),
        _user_match(call.arg("reviewer_username"), [u["username"] for u in mr["reviewers"]]),
        _user_match(call.arg("reviewer_id"), [str(u["id"]) for u in mr["reviewers"]]),
        _user_match(call.arg("assignee_id"), [str(u["id"]) for u in mr["assignees"]]),
        call.arg("source_branch") in (None, mr["source_branch"]),
        call.arg("target_branch") in (None, mr["target_branch"]),
        call.arg("wip") is None or (call.arg("wip") == "yes") == mr["draft"],
        not call.arg_list("iids") or str(mr["iid"]) in call.arg_list("iids"),
        _search_match(call, mr),
        _time_match(call.arg("created_after"), mr["created_at"], after=True),
        _time_match(call.arg("created_before"), mr["created_at"], after=False),
        _time_match(call.arg("updated_after"), mr["updated_at"], after=True),
        _time_match(call.arg("updated_before"), mr["updated_at"], after=False),
    ]
    scope = call.arg("scope", "all").replace("-", "_")
    if scope == "created_by_me":
        checks.append(mr["author"]["username"] == me)
    elif scope == "assigned_to_me":
        checks.append(me in [u["username"] for u in mr["assignees"]])
    elif scope == "reviews_for_me":
        checks.append(me in [u["username"] for u in mr["reviewers"]])
    return all(checks)


def _labels_match(wanted: list[str], labels: list[str]) -> bool:
    # labels=None: no labels; labels=Any: at least one; otherwise every listed label (case-insensitive).
    if not wanted:
        return True
    if [w.lower() for w in wanted] == ["none"]:
        return not labels
    if [w.lower() for w in wanted] == ["any"]:
        return bool(labels)
    have = {label.lower() for label in labels}
    return all(w.lower() in have for w in wanted)


def _user_match(wanted: str | None, values: list[str]) -> bool:
    if wanted is None:
        return True
    if wanted.lower() == "none":
        return not values
    if wanted.lower() == "any":
        return bool(values)
    return wanted in values


def _search_match(call: Call, mr: dict[str, Any]) -> bool:
    term = call.arg("search")
    if not term:
        return True
    fields = [f.strip() for f in call.arg("in", "title,description").split(",")]
    return any(term.lower() in (mr.get(f) or "").lower() for f in fields)


def _time_match(bound: str | None, value: str, *, after: bool) -> bool:
    if not bound:
        return True
    limit, when = _parse_time(bound), _parse_time(value)
    return when >= limit if after else when <= limit


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the state machine ------------------------------------------------------------------------------
PIPELINE_MUST_SUCCEED = frozenset({101})  # projects with "Pipelines must succeed" turned on
AUTHORS_CANNOT_APPROVE = frozenset({101})  # merge_requests_author_approval=false (doc/api/merge_request_approvals.md)
DRAFT = re.compile(r"^\s*(\[draft\]|\(draft\)|draft:)\s*", re.IGNORECASE)  # MergeRequest::DRAFT_REGEX
REBASE_FAILED = "Rebase failed: Rebase locally, resolve all conflicts, then push the branch."
UPDATE_PARAMS = (
    "assignee_id", "assignee_ids", "reviewer_ids", "description", "labels", "add_labels", "remove_labels",
    "milestone_id", "remove_source_branch", "allow_collaboration", "allow_maintainer_to_push", "squash",
    "target_branch", "title", "state_event", "discussion_locked", "merge_after",
)  # fmt: skip
SAME_BRANCH = "You can't use same project/branch for source and target"


def detailed_status(world: World, mr: dict[str, Any]) -> str:
    """detailed_merge_status: the first failing check, in GitLab's order (doc/api/merge_requests.md);
    checks the simulator does not derive come from merge_checks (set by tests)."""
    if mr["state"] != "opened":
        return "not_open"
    pipeline = (mr.get("head_pipeline") or {}).get("status")
    derived = set()
    if mr["draft"]:
        derived.add("draft_status")
    if mr["has_conflicts"]:
        derived.add("conflict")
    if not mr["blocking_discussions_resolved"]:
        derived.add("discussions_not_resolved")
    if approval_state(world, mr)["approvals_left"]:
        derived.add("not_approved")
    if mr["project_id"] in PIPELINE_MUST_SUCCEED and pipeline != "success":
        derived.add("ci_still_running" if pipeline in ("created", "pending", "running") else "ci_must_pass")
    if mr.get("merge_after") and str(mr["merge_after"]) > now():  # doc/api/merge_requests.md: merge_after
        derived.add("merge_time")
    return merge_checks.first_failing(derived, merge_checks.failing(world, mr))


def refresh(world: World, mr: dict[str, Any], *, touched: bool = True) -> None:
    mr["draft"] = mr["work_in_progress"] = bool(DRAFT.match(mr["title"]))
    mr["detailed_merge_status"] = detailed_status(world, mr)
    if touched:
        mr["updated_at"] = now()


def can_merge(world: World, user_id: int | None, mr: dict[str, Any]) -> bool:
    """Merging is pushing to the target: Developer, and a role allowed to merge into a protected branch."""
    level = world.access_level(user_id, mr["project_id"])
    rules = protections(world, mr["project_id"], mr["target_branch"])
    return level >= DEVELOPER and (not rules or any(0 < rule["merge_access_level"] <= level for rule in rules))


def detail(call: Call, mr: dict[str, Any]) -> dict[str, Any]:
    return {**mr, "user": {"can_merge": can_merge(call.world, call.user_id, mr)}}


def mr_commits(world: World, mr: dict[str, Any]) -> list[dict[str, Any]]:
    """An open MR's commits: on its source branch and not on its target; otherwise as last recorded."""
    pid = mr["project_id"]
    source, target = find_branch(world, pid, mr["source_branch"]), find_branch(world, pid, mr["target_branch"])
    if mr["state"] == "opened" and source and target:
        base = {c["id"] for c in history(world, pid, target["head"])}
        return [public_commit(c) for c in history(world, pid, source["head"]) if c["id"] not in base]
    rows = world.table("mr_commits")
    return next((r["commits"] for r in rows if (r["project_id"], r["iid"]) == (pid, mr["iid"])), [])


def _record_commits(world: World, mr: dict[str, Any], commits: list[dict[str, Any]]) -> None:
    rows = world.table("mr_commits")
    rows[:] = [r for r in rows if (r["project_id"], r["iid"]) != (mr["project_id"], mr["iid"])]
    rows.append({"project_id": mr["project_id"], "iid": mr["iid"], "commits": commits})


def _user_ids(call: Call, name: str) -> list[dict[str, Any]] | None:
    """assignee_ids / reviewer_ids: None when absent; 0 or an empty value clears them."""
    if call.arg(name) is None:
        return None
    ids = [int(v) for v in call.arg_list(name) if str(v).isdigit() and int(v) in call.world.users]
    return [call.world.user_ref(i) for i in dict.fromkeys(ids)]


def _people(mr: dict[str, Any], call: Call) -> None:
    single = call.arg("assignee_id")
    assignees = _user_ids(call, "assignee_ids")
    if assignees is None and single is not None:
        assignees = [call.world.user_ref(int(single))] if int(single) in call.world.users else []
    if assignees is not None:
        mr["assignees"], mr["assignee"] = assignees, assignees[0] if assignees else None
    reviewers = _user_ids(call, "reviewer_ids")
    if reviewers is not None:
        mr["reviewers"] = reviewers


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
    mr = _merge_request(world, pid, iid, str(call.arg("title")), author, source, "opened", "", "", "", 1, None)
    heads = {b: find_branch(world, pid, b)["head"] for b in (source, target)}  # type: ignore[index]
    mr |= {"created_at": when, "updated_at": when, "prepared_at": when, "target_branch": target}
    mr |= {"description": call.arg("description") or "", "labels": sorted(set(call.arg_list("labels")))}
    mr |= {"force_remove_source_branch": bool(call.flag("remove_source_branch")), "squash": bool(call.flag("squash"))}
    mr |= {"sha": heads[source], "latest_build_started_at": None, "user_notes_count": 0}
    mr["diff_refs"] = {"base_sha": heads[target], "head_sha": heads[source], "start_sha": heads[target]}
    _people(mr, call)
    world.table("merge_requests").append(mr)
    for entry in file_diffs(tree_at(world, pid, heads[target]), tree_at(world, pid, heads[source])):
        world.table("mr_diffs").append({"project_id": pid, "iid": iid, "collapsed": False, "too_large": False, **entry})
    mr["changes_count"] = str(sum(1 for d in world.table("mr_diffs") if (d["project_id"], d["iid"]) == (pid, iid)))
    _record_commits(world, mr, mr_commits(world, mr))
    refresh(world, mr, touched=False)
    return mr


async def update_merge_request(call: Call) -> Response:
    mr = _merge_request_in_path(call)
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
    _people(mr, call)
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
    mr = _merge_request_in_path(call)
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
    _record_commits(world, mr, commits)
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
    mr = _merge_request_in_path(call)
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


# --- approvals (doc/api/merge_request_approvals.md) -------------------------------------------------
def approval_state(world: World, mr: dict[str, Any], user_id: int | None = None) -> dict[str, Any]:
    """GET .../approvals as GitLab answers it (EE's ApprovalState entity, a superset of CE's)."""
    key = (mr["project_id"], mr["iid"])
    approvers = [a["user_id"] for a in world.table("mr_approvals") if (a["project_id"], a["iid"]) == key]
    rules = world.table("mr_approval_rules")
    required = next((r["approvals_required"] for r in rules if (r["project_id"], r["iid"]) == key), 0)
    left = max(0, required - len(approvers))
    return {
        **{k: mr[k] for k in ("id", "iid", "project_id", "title", "description", "state", "created_at", "updated_at")},
        "merge_status": mr["merge_status"], "approved": left == 0, "approvals_required": required,
        "approvals_left": left, "require_password_to_approve": False,
        "approved_by": [{"user": world.user_ref(uid)} for uid in approvers],
        "suggested_approvers": [], "approvers": [], "approver_groups": [],
        "user_has_approved": user_id in approvers, "user_can_approve": _can_approve(world, mr, user_id, approvers),
        "approval_rules_left": [], "has_approval_rules": required > 0,
        "merge_request_approvers_available": False, "multiple_approval_rules_available": False,
    }  # fmt: skip


def _can_approve(world: World, mr: dict[str, Any], user_id: int | None, approvers: list[int]) -> bool:
    if user_id is None or user_id in approvers or mr["state"] != "opened":
        return False
    if mr["project_id"] in AUTHORS_CANNOT_APPROVE and mr["author"]["id"] == user_id:
        return False
    return world.access_level(user_id, mr["project_id"]) >= DEVELOPER


async def get_approvals(call: Call) -> Response:
    mr = _merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    return JSONResponse(approval_state(call.world, mr, call.user_id))


async def approve(call: Call) -> Response:
    mr = _merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world = call.world
    if world.access_level(call.user_id, mr["project_id"]) < DEVELOPER:
        return forbidden()
    if call.arg("sha") is not None and call.arg("sha") != mr["sha"]:
        return error(409, f"SHA does not match HEAD of source branch: {mr['sha']}")
    if not approval_state(world, mr, call.user_id)["user_can_approve"]:
        return error(401, "401 Unauthorized")  # MergeRequests::ApprovalService said no
    world.table("mr_approvals").append({"project_id": mr["project_id"], "iid": mr["iid"], "user_id": call.user_id})
    refresh(world, mr)
    return JSONResponse(approval_state(world, mr, call.user_id), status_code=201)


async def unapprove(call: Call) -> Response:
    mr = _merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    world, key = call.world, (mr["project_id"], mr["iid"], call.user_id)
    if world.access_level(call.user_id, mr["project_id"]) < DEVELOPER:
        return forbidden()
    rows = world.table("mr_approvals")
    mine = next((a for a in rows if (a["project_id"], a["iid"], a["user_id"]) == key), None)
    if mine is None:
        return not_found()
    rows.remove(mine)
    refresh(world, mr)
    return JSONResponse(approval_state(world, mr, call.user_id), status_code=201)


# --- what belongs to an MR ----------------------------------------------------------------------------
async def list_commits(call: Call) -> Response:
    mr = _merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    return paginate(call, mr_commits(call.world, mr))


async def list_pipelines(call: Call) -> Response:
    """Ci::PipelinesForMergeRequestFinder: MR pipelines and the source branch's, newest first."""
    mr = _merge_request_in_path(call)
    if isinstance(mr, Response):
        return mr
    refs = (f"refs/merge-requests/{mr['iid']}/head", mr["source_branch"])
    rows = [p for p in call.world.table("pipelines") if p["project_id"] == mr["project_id"] and p["ref"] in refs]
    found = [{k: p[k] for k in PIPELINE_BASIC} for p in rows]
    if mr["pipeline"] and all(p["id"] != mr["pipeline"]["id"] for p in found):
        found.append({k: mr["pipeline"].get(k) for k in PIPELINE_BASIC})
    return paginate(call, sorted(found, key=lambda p: p["id"], reverse=True))


async def list_closes_issues(call: Call) -> Response:
    mr = _merge_request_in_path(call)
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
    mr = _merge_request_in_path(call)
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
    return paginate(call, [_list_entity(mr, None) for mr in mrs])


# --- across projects ------------------------------------------------------------------------------
async def list_all_merge_requests(call: Call) -> Response:
    """GET /merge_requests: by default the caller's own (scope=created_by_me), in every project they see."""
    scope = call.arg("scope", "created_by_me")
    if scope not in SCOPES:
        return invalid_value("scope")
    if call.user_id is None and scope != "all":
        return error(401, "401 Unauthorized")
    projects = [p for p in call.world.projects.values() if call.world.can_read(call.user_id, p)]
    return _across(call, projects, scope)


async def list_group_merge_requests(call: Call) -> Response:
    group = find_group(call.world, call.params["id"])
    if group is None or not can_read_group(call.world, call.user_id, group):
        return not_found("Group")
    paths = {g["full_path"] for g in descendants(call.world, group)}
    projects = [
        p for p in call.world.projects.values()
        if p["namespace"]["full_path"] in paths and call.world.can_read(call.user_id, p)
    ]  # fmt: skip
    if call.flag("non_archived") is not False:
        projects = [p for p in projects if not p["archived"]]
    return _across(call, projects, call.arg("scope", "all"))


def _across(call: Call, projects: list[dict[str, Any]], scope: str) -> Response:
    problem = _invalid_list_params(call)
    if problem:
        return param_error(problem)
    ids = {p["id"] for p in projects}
    me = call.world.users.get(call.user_id or 0, {}).get("username")
    mrs = [mr for mr in call.world.table("merge_requests") if mr["project_id"] in ids and _matches(call, mr)]
    people = {
        "created_by_me": lambda mr: [mr["author"]],
        "assigned_to_me": lambda mr: mr["assignees"],
        "reviews_for_me": lambda mr: mr["reviewers"],
    }.get(scope.replace("-", "_"))
    if people is not None:
        mrs = [mr for mr in mrs if me in [u["username"] for u in people(mr)]]
    order = call.arg("order_by", "created_at")
    mrs.sort(key=lambda mr: (mr.get(order) or "", mr["id"]), reverse=call.arg("sort", "desc") == "desc")
    return paginate(call, [_list_entity(mr, SIMPLE_FIELDS if call.arg("view") == "simple" else None) for mr in mrs])


SCOPES = ("created_by_me", "assigned_to_me", "created-by-me", "assigned-to-me", "reviews_for_me", "all")
PIPELINE_BASIC = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url")


# --- seed ----------------------------------------------------------------------------------------
# fmt: off
MERGE_REQUESTS = (
    # project, iid, title, author, source branch, state, assignees, reviewers, labels, updated (day of April), pipeline
    (101, 1, "Add a login page", "bob", "feature/login", "opened", "bob", "alice", "feature,frontend", 20, "success"),
    (101, 2, "Fix crash on empty config", "alice", "fix/empty-config", "merged", "alice", "bob", "bug", 12, None),
    (101, 3, "Draft: Rewrite the API client", "alice", "refactor", "opened", "alice", "", "refactor", 25, "running"),
    (101, 4, "Regenerate test fixtures", "bob", "chore/fixtures", "opened", "bob", "alice", "chore", 15, "failed"),
    (101, 5, "Try a new logo", "bob", "design/logo", "closed", "", "", "", 9, None),
    (101, 6, "Add HTTP timeouts", "alice", "fix/timeout", "opened", "alice,bob", "bob", "bug,backend", 22, None),
    (102, 1, "Update the footer", "alice", "footer", "opened", "", "", "", 5, None),
    (104, 1, "Secret plan", "bob", "plan", "opened", "bob", "", "", 7, None),
)
EXTRAS: dict[tuple[int, int], dict[str, Any]] = {
    (101, 1): {"description": "Adds the login form and moves sessions to app/auth.py.", "milestone": "v1.0"},
    (101, 2): {"description": "Closes #3."},
    (101, 3): {"detailed_merge_status": "draft_status"},
    (101, 4): {"detailed_merge_status": "ci_must_pass"},
    (101, 6): {"description": "Requests hung forever; add a 30 s timeout. Also fixes a KeyError on retry.",
               "target_branch": "release/1.0", "merge_status": "cannot_be_merged",
               "detailed_merge_status": "conflict", "has_conflicts": True},
    (104, 1): {"description": "Nobody but bob."},
}
# fmt: on


def seed(world: World) -> None:
    """acme/app (101): six MRs (!3 changes 45 files, !4 has a huge diff); acme/website: one; bob/secret: one."""
    for spec in MERGE_REQUESTS:
        world.table("merge_requests").append(_merge_request(world, *spec))
    _file(world, 101, 1, "app/login.py", _hunk(3, ["def login():"], ["def login(form):", "    return check(form)"]))
    _file(world, 101, 1, "app/templates/login.html", _hunk(0, [], ["<form>", "</form>"]), new_file=True)
    _file(world, 101, 1, "app/auth.py", _hunk(1, ["# sessions"], ["# auth"]), old_path="app/session.py")
    _file(world, 101, 1, "app/old_login.py", _hunk(1, ["legacy = True"], []), deleted_file=True)
    _file(world, 101, 2, "app/config.py", _hunk(8, ["data = load()"], ["data = load() or {}"]))
    for n in range(1, 46):
        folder, ext = ("src/api", "py") if n <= 15 else ("src/ui", "ts") if n <= 30 else ("docs", "md")
        _file(world, 101, 3, f"{folder}/part_{n:02d}.{ext}", _hunk(n, [f"old line {n}"], [f"new line {n}"]))
    # !4: one ~200 kB diff (GitLab's default per-file limit), six ~9 kB ones, a too-large one, a generated one.
    rows = [f'  {{"id": {n}, "name": "item-{n:05d}", "tags": ["alpha", "beta"]}},' for n in range(1, 3001)]
    _file(world, 101, 4, "fixtures/huge.json", _hunk(0, [], rows), new_file=True)
    for n in range(1, 7):
        lines = [f"VALUE_{n}_{k:03d} = 'generated constant number {k:03d} of module {n}'" for k in range(150)]
        _file(world, 101, 4, f"src/gen/module_{n}.py", _hunk(0, [], lines), new_file=True)
    _file(world, 101, 4, "assets/bundle.min.js", "", too_large=True)
    _file(world, 101, 4, "package-lock.json", _hunk(2, ['"v": "1.0.0"'], ['"v": "1.0.1"']), generated=True)
    _file(world, 101, 5, "assets/logo.svg", _hunk(1, ["<svg/>"], ["<svg></svg>"]))
    _file(world, 101, 6, "app/http.py", _hunk(20, ["client = Client()"], ["client = Client(timeout=30)"]))
    _file(world, 102, 1, "index.html", _hunk(40, ["<footer>2023</footer>"], ["<footer>2024</footer>"]))
    _file(world, 104, 1, "plan.md", _hunk(0, [], ["# The plan"]), new_file=True)
    # acme/website !1 needs one approval (an approval rule), which alice may give: she may approve her own.
    world.table("mr_approval_rules").append({"project_id": 102, "iid": 1, "approvals_required": 1})
    for mr in world.table("merge_requests"):
        _link_branches(world, mr)
        refresh(world, mr, touched=False)


def _link_branches(world: World, mr: dict[str, Any]) -> None:
    """An open MR whose branches exist in the repository (acme/app !1) points at their real heads; any
    other gets one made-up commit, its `sha`, to list as its commits."""
    pid = mr["project_id"]
    source, target = find_branch(world, pid, mr["source_branch"]), find_branch(world, pid, mr["target_branch"])
    if mr["state"] == "opened" and source and target:
        mr["sha"] = source["head"]
        mr["diff_refs"] = {"base_sha": target["head"], "head_sha": source["head"], "start_sha": target["head"]}
        for key in ("pipeline", "head_pipeline"):
            if mr[key]:
                mr[key]["sha"] = source["head"]
        _record_commits(world, mr, mr_commits(world, mr))
        return
    author, when = world.users[mr["author"]["id"]], mr["created_at"]
    made_up = {
        "id": mr["sha"], "short_id": mr["sha"][:8], "created_at": when, "parent_ids": [mr["diff_refs"]["base_sha"]],
        "title": DRAFT.sub("", mr["title"]), "message": DRAFT.sub("", mr["title"]) + "\n",
        "author_name": author["name"], "author_email": author["email"], "authored_date": when,
        "committer_name": author["name"], "committer_email": author["email"], "committed_date": when,
        "trailers": {}, "extended_trailers": {},
        "web_url": f"{world.projects[pid]['web_url']}/-/commit/{mr['sha']}",
    }  # fmt: skip
    _record_commits(world, mr, [made_up])


def _merge_request(
    world: World, pid: int, iid: int, title: str, author: str, source: str, state: str,
    assignees: str, reviewers: str, labels: str, day: int, pipeline: str | None,
) -> dict[str, Any]:  # fmt: skip
    """GitLab's single-MR JSON (doc/api/merge_requests.md#get-single-mr) for one seed row."""
    full = world.projects[pid]["path_with_namespace"]
    sha = f"{pid:04d}{iid:04d}".ljust(40, "a")
    created, updated = f"2024-04-{iid:02d}T10:00:00.000Z", f"2024-04-{day:02d}T16:00:00.000Z"
    user, merged, closed = _user(world, author), state == "merged", state == "closed"
    people = [_user(world, name) for name in assignees.split(",") if name]
    extra = dict(EXTRAS.get((pid, iid), {}))
    milestone = extra.pop("milestone", None)
    return {
        **dict.fromkeys(("merge_after", "squash_commit_sha", "discussion_locked", "approvals_before_merge")),
        **dict.fromkeys(("imported", "merge_when_pipeline_succeeds", "force_remove_source_branch", "squash",
                         "squash_on_merge", "has_conflicts", "subscribed", "first_contribution"), False),
        "merge_error": None,
        "id": world.next_id(), "iid": iid, "project_id": pid, "title": title, "description": "", "state": state,
        "imported_from": "none", "created_at": created, "updated_at": updated, "prepared_at": created,
        "merged_by": user if merged else None, "merge_user": user if merged else None,
        "merged_at": updated if merged else None, "merge_commit_sha": sha[::-1] if merged else None,
        "closed_by": user if closed else None, "closed_at": updated if closed else None,
        "target_branch": "main", "source_branch": source, "source_project_id": pid, "target_project_id": pid,
        "user_notes_count": iid % 3, "upvotes": 0, "downvotes": 0,
        "author": user, "assignees": people, "assignee": people[0] if people else None,
        "reviewers": [_user(world, name) for name in reviewers.split(",") if name],
        "labels": [label for label in labels.split(",") if label],
        "draft": title.startswith("Draft:"), "work_in_progress": title.startswith("Draft:"),
        "milestone": _milestone(pid, milestone, full) if milestone else None,
        "merge_status": "can_be_merged", "detailed_merge_status": "not_open" if merged or closed else "mergeable",
        "sha": sha, "should_remove_source_branch": True, "blocking_discussions_resolved": True,
        "reference": f"!{iid}", "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"{full}!{iid}"},
        "web_url": f"{SIM_URL}/{full}/-/merge_requests/{iid}",
        "time_stats": {"time_estimate": 0, "total_time_spent": 0,
                       "human_time_estimate": None, "human_total_time_spent": None},
        "task_completion_status": {"count": 0, "completed_count": 0},
        # Detail-only fields (GET /projects/:id/merge_requests/:merge_request_iid):
        "changes_count": "0", "latest_build_started_at": updated if pipeline else None,
        "latest_build_finished_at": None, "first_deployed_to_production_at": None,
        "pipeline": _pipeline(pid, iid, sha, pipeline, full, updated, detail=False),
        "head_pipeline": _pipeline(pid, iid, sha, pipeline, full, updated, detail=True),
        "diff_refs": {"base_sha": "b" * 40, "head_sha": sha, "start_sha": "b" * 40},
        **extra,
    }  # fmt: skip


def _user(world: World, username: str) -> dict[str, Any]:
    found = world.by_username(username)
    assert found is not None, username
    return world.user_ref(found["id"])


def _pipeline(
    pid: int, iid: int, sha: str, status: str | None, full: str, when: str, *, detail: bool
) -> dict[str, Any] | None:
    if status is None:
        return None
    number = 9000 + pid * 10 + iid
    short = {
        "id": number, "iid": iid, "project_id": pid, "sha": sha, "ref": f"refs/merge-requests/{iid}/head",
        "status": status, "source": "merge_request_event", "created_at": when, "updated_at": when,
        "web_url": f"{SIM_URL}/{full}/-/pipelines/{number}",
    }  # fmt: skip
    if not detail:
        return short
    return {
        **short, "before_sha": "0" * 40, "tag": False, "yaml_errors": None, "started_at": when,
        "finished_at": None if status == "running" else when, "duration": 30, "coverage": None,
        "detailed_status": {"icon": f"status_{status}", "text": status, "label": status, "group": status},
    }  # fmt: skip


def _milestone(pid: int, title: str, full: str) -> dict[str, Any]:
    return {
        "id": 500 + pid, "iid": 1, "project_id": pid, "title": title, "description": "", "state": "active",
        "due_date": None, "web_url": f"{SIM_URL}/{full}/-/milestones/1",
    }  # fmt: skip


def _file(
    world: World, pid: int, iid: int, path: str, diff: str, *, old_path: str | None = None,
    new_file: bool = False, deleted_file: bool = False, generated: bool = False, too_large: bool = False,
) -> None:  # fmt: skip
    """One changed file of an MR, as GET .../diffs returns it (too_large files come with an empty diff)."""
    world.table("mr_diffs").append({
        "project_id": pid, "iid": iid, "old_path": old_path or path, "new_path": path,
        "a_mode": "0" if new_file else "100644", "b_mode": "0" if deleted_file else "100644",
        "diff": diff, "collapsed": False, "too_large": too_large, "new_file": new_file,
        "renamed_file": old_path is not None and old_path != path, "deleted_file": deleted_file,
        "generated_file": generated,
    })  # fmt: skip
    mr = find_merge_request(world, pid, iid)
    assert mr is not None
    mr["changes_count"] = str(int(mr["changes_count"]) + 1)


def _hunk(start: int, removed: list[str], added: list[str]) -> str:
    """One unified-diff hunk as GitLab's `diff` field holds it (no ---/+++ header)."""
    head = f"@@ -{start},{len(removed)} +{max(start, 1) if added else 0},{len(added)} @@\n"
    return head + "".join(f"-{line}\n" for line in removed) + "".join(f"+{line}\n" for line in added)
