"""Simulated GitLab API: merge requests (doc/api/merge_requests.md).

Rows: "merge_requests" holds GitLab's single-MR JSON (list responses drop the detail-only fields);
"mr_diffs" holds one row per changed file, keyed by project_id and iid, in diff order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, Router, invalid_param, not_found, paginate, param_error
from tests.gitlab_sim.world import DEVELOPER, SIM_URL, World

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
    router.route("GET", "/projects/:id/merge_requests")(list_merge_requests)
    router.route("GET", "/projects/:id/merge_requests/:merge_request_iid")(get_merge_request)
    router.route("GET", "/projects/:id/merge_requests/:merge_request_iid/diffs")(list_diffs)


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
    can_merge = call.world.access_level(call.user_id, mr["project_id"]) >= DEVELOPER
    return JSONResponse({**mr, "user": {"can_merge": can_merge}})


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
    scope = call.arg("scope", "all")
    if scope == "created_by_me":
        checks.append(mr["author"]["username"] == me)
    elif scope == "assigned_to_me":
        checks.append(me in [u["username"] for u in mr["assignees"]])
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
