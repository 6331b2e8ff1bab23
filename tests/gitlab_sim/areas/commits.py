"""Simulated GitLab API: one commit — its detail, diff, statuses and comments; cherry-pick and revert.

doc/api/commits.md; the bodies of errors as lib/api/commits.rb, lib/api/commit_statuses.rb and
Commits::ChangeService give them. (GET /repository/commits, the list, belongs to the repository area;
GET .../commits/:sha/merge_requests to the merge requests area.)

Builds on the repository area's model (commits, branches, protected branches, per-commit trees; a
commit's diff is its tree against its first parent's). Adds "commit_statuses" (the CommitStatus entity
plus `project_id` and `stage`) and "commit_comments" (the CommitNote entity plus `project_id`, `sha`).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.repository import (
    can_push,
    code_project,
    commit_files,
    commits_of,
    diff_stats,
    file_diffs,
    find_branch,
    public_commit,
    resolve,
    tree_at,
)
from tests.gitlab_sim.http import Call, Router, error, invalid_value, missing_param, not_found, paginate, param_error
from tests.gitlab_sim.world import World, now

Project = dict[str, Any]
Commit = dict[str, Any]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/repository/commits/:sha")(get_commit)
    router.route("GET", "/projects/:id/repository/commits/:sha/diff")(get_diff)
    router.route("POST", "/projects/:id/repository/commits/:sha/cherry_pick")(cherry_pick)
    router.route("POST", "/projects/:id/repository/commits/:sha/revert")(revert)
    router.route("GET", "/projects/:id/repository/commits/:sha/statuses")(list_statuses)
    router.route("GET", "/projects/:id/repository/commits/:sha/comments")(list_comments)
    router.route("POST", "/projects/:id/repository/commits/:sha/comments")(create_comment)


# --- the model ------------------------------------------------------------------------------------
def parent_tree(world: World, pid: int, commit: Commit) -> dict[str, bytes]:
    return tree_at(world, pid, commit["parent_ids"][0]) if commit["parent_ids"] else {}


def diffs_of(world: World, pid: int, commit: Commit) -> list[dict[str, Any]]:
    """The commit's changes against its first parent, as GitLab's Diff entities."""
    return file_diffs(parent_tree(world, pid, commit), tree_at(world, pid, commit["id"]))


def as_author(world: World, row: Commit, original: Commit) -> None:
    """A replayed commit (cherry-pick, rebase) keeps its author; the caller is only its committer."""
    for key in ("author_name", "author_email", "authored_date"):
        row[key] = original[key]


def detail(world: World, project: Project, commit: Commit, *, with_stats: bool = True) -> dict[str, Any]:
    """Entities::CommitDetail: the commit, its stats, and its latest pipeline (here: of its statuses)."""
    out = public_commit(commit) | {"project_id": project["id"]}
    if with_stats:
        out["stats"] = diff_stats(diffs_of(world, project["id"], commit))
    rows = [s for s in world.table("commit_statuses") if (s["project_id"], s["sha"]) == (project["id"], commit["id"])]
    pipeline = None
    if rows:
        latest = max(rows, key=lambda s: s["pipeline_id"])
        status = _overall([s for s in _latest(rows) if s["pipeline_id"] == latest["pipeline_id"]])
        pipeline = {"id": latest["pipeline_id"], "iid": latest["pipeline_id"] % 100, "project_id": project["id"]}
        pipeline |= {"sha": commit["id"], "ref": latest["ref"], "status": status, "source": "push"}
        pipeline |= {"created_at": latest["created_at"], "updated_at": latest["created_at"]}
        pipeline["web_url"] = f"{project['web_url']}/-/pipelines/{latest['pipeline_id']}"
    return out | {"last_pipeline": pipeline, "status": pipeline["status"] if pipeline else None}


def _latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest status of each name (CommitStatus.latest)."""
    newest: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda s: s["id"]):
        newest[row["name"]] = row
    return sorted(newest.values(), key=lambda s: s["id"])


def _overall(rows: list[dict[str, Any]]) -> str:
    statuses = [s["status"] for s in rows if not (s["allow_failure"] and s["status"] == "failed")]
    for status in ("failed", "running", "pending", "canceled"):
        if status in statuses:
            return status
    return "success"


# --- endpoints ------------------------------------------------------------------------------------
def _project_and_commit(call: Call) -> tuple[Project, Commit] | Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    commit = resolve(call.world, project, call.params["sha"])
    return (project, commit) if commit is not None else not_found("Commit")


async def get_commit(call: Call) -> Response:
    found = _project_and_commit(call)
    if isinstance(found, Response):
        return found
    project, commit = found
    return JSONResponse(detail(call.world, project, commit, with_stats=call.flag("stats") is not False))


async def get_diff(call: Call) -> Response:
    found = _project_and_commit(call)
    if isinstance(found, Response):
        return found
    project, commit = found
    diffs = diffs_of(call.world, project["id"], commit)
    if call.flag("unidiff"):
        for d in diffs:
            if d["diff"]:
                old = "/dev/null" if d["new_file"] else f"a/{d['old_path']}"
                new = "/dev/null" if d["deleted_file"] else f"b/{d['new_path']}"
                d["diff"] = f"--- {old}\n+++ {new}\n{d['diff']}"
    return paginate(call, diffs)


def _change_target(call: Call) -> tuple[Project, Commit, dict[str, Any]] | Response:
    """The checks cherry_pick and revert share, in lib/api/commits.rb's order."""
    project = code_project(call)
    if isinstance(project, Response):
        return project
    branch = call.arg("branch")
    if branch is None:
        return missing_param("branch")
    if not str(branch):
        return param_error("branch is empty")
    if not can_push(call.world, project, call.user_id, str(branch)):
        return error(403, "403 Forbidden - You are not allowed to push into this branch")
    commit = resolve(call.world, project, call.params["sha"])
    if commit is None:
        return not_found("Commit")
    row = find_branch(call.world, project["id"], str(branch))
    return (project, commit, row) if row is not None else not_found("Branch")


def _apply(
    head: dict[str, bytes], before: dict[str, bytes], after: dict[str, bytes], paths: list[str]
) -> dict[str, bytes] | str:
    """`head` with the change before -> after on `paths` applied, or why not: "empty" when it is there
    already, "conflict" when the branch changed those paths otherwise (a three-way merge, per file)."""
    if all(head.get(p) == after.get(p) for p in paths):
        return "empty"
    if any(head.get(p) not in (before.get(p), after.get(p)) for p in paths):
        return "conflict"
    files = dict(head)
    for path in paths:
        if after.get(path) is None:
            files.pop(path, None)
        else:
            files[path] = after[path]
    return files


def _change_failed(call: Call, action: str, code: str) -> Response:
    # Commits::ChangeService turns Gitaly's CreateTreeError into this message and its error_code.
    past = "cherry-picked" if action == "cherry-pick" else "reverted"
    body: dict[str, Any] = {
        "message": f"Sorry, we cannot {action} this commit automatically. This commit may already have been "
        f"{past}, or a more recent commit may have updated some of its content.",
        "error_code": code,
    }
    if call.flag("dry_run"):
        body["dry_run"] = "error"
    return JSONResponse(body, status_code=400)


async def cherry_pick(call: Call) -> Response:
    target = _change_target(call)
    if isinstance(target, Response):
        return target
    project, commit, branch = target
    world, pid = call.world, project["id"]
    before, after = parent_tree(world, pid, commit), tree_at(world, pid, commit["id"])
    paths = sorted({p for d in file_diffs(before, after) for p in (d["old_path"], d["new_path"])})
    files = _apply(tree_at(world, pid, branch["head"]), before, after, paths)
    if isinstance(files, str):
        return _change_failed(call, "cherry-pick", files)
    if call.flag("dry_run"):
        return JSONResponse({"dry_run": "success"})
    message = call.arg("message") or f"{commit['message'].rstrip()}\n\n(cherry picked from commit {commit['id']})\n"
    new = commit_files(
        world, project, branch["name"], user_id=call.user_id or 0, message=message, files=files, parent=branch["head"]
    )
    as_author(world, new, commit)
    return JSONResponse(public_commit(new), status_code=201)


async def revert(call: Call) -> Response:
    target = _change_target(call)
    if isinstance(target, Response):
        return target
    project, commit, branch = target
    world, pid = call.world, project["id"]
    before, after = tree_at(world, pid, commit["id"]), parent_tree(world, pid, commit)
    paths = sorted({p for d in file_diffs(after, before) for p in (d["old_path"], d["new_path"])})
    files = _apply(tree_at(world, pid, branch["head"]), before, after, paths)
    if isinstance(files, str):
        return _change_failed(call, "revert", files)
    if call.flag("dry_run"):
        return JSONResponse({"dry_run": "success"})
    message = f'Revert "{commit["title"]}"\n\nThis reverts commit {commit["id"]}.\n'
    new = commit_files(
        world, project, branch["name"], user_id=call.user_id or 0, message=message, files=files, parent=branch["head"]
    )
    return JSONResponse(public_commit(new), status_code=201)


async def list_statuses(call: Call) -> Response:
    found = _project_and_commit(call)
    if isinstance(found, Response):
        return found
    project, _commit = found
    # Statuses hang on pipelines found by the full SHA (lib/api/commit_statuses.rb).
    sha = call.params["sha"]
    rows = [s for s in call.world.table("commit_statuses") if s["project_id"] == project["id"] and s["sha"] == sha]
    if not call.flag("all"):
        rows = _latest(rows)
    for name in ("ref", "stage", "name"):
        if value := call.arg(name):
            rows = [s for s in rows if s[name] == value]
    order, sort = call.arg("order_by", "id"), call.arg("sort", "asc")
    if order not in ("id", "pipeline_id"):
        return invalid_value("order_by")
    if sort not in ("asc", "desc"):
        return invalid_value("sort")
    rows = sorted(rows, key=lambda s: s[order], reverse=sort == "desc")
    # `stage` filters but is not part of the entity.
    return paginate(call, [{k: v for k, v in s.items() if k not in ("project_id", "stage")} for s in rows])


async def list_comments(call: Call) -> Response:
    found = _project_and_commit(call)
    if isinstance(found, Response):
        return found
    project, commit = found
    rows = [
        c for c in call.world.table("commit_comments") if (c["project_id"], c["sha"]) == (project["id"], commit["id"])
    ]
    return paginate(call, [_note(c) for c in rows])


def _note(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("project_id", "sha")}


async def create_comment(call: Call) -> Response:
    found = _project_and_commit(call)
    if isinstance(found, Response):
        return found
    project, commit = found
    note, path = call.arg("note"), call.arg("path")
    if note is None:
        return missing_param("note")
    if path is not None and call.arg("line") is None:
        return missing_param("line")
    line_type = call.arg("line_type", "new")
    if path is not None and line_type not in ("new", "old"):
        return invalid_value("line_type")
    if not str(note).strip():
        return error(400, {"note": ["can't be blank"]})
    line = int(call.arg("line")) if path is not None and str(call.arg("line")).isdigit() else None
    # A line that is not in the commit's diff makes a plain comment (doc/api/commits.md#post-comment-to-commit).
    if path is None or line is None or not _in_diff(call.world, project, commit, path, line, line_type):
        path, line, line_type = None, None, None
    row = {"project_id": project["id"], "sha": commit["id"], "note": str(note), "path": path, "line": line}
    row |= {"line_type": line_type, "author": call.world.user_ref(call.user_id or 0), "created_at": now()}
    call.world.table("commit_comments").append(row)
    return JSONResponse(_note(row), status_code=201)


def _in_diff(world: World, project: Project, commit: Commit, path: str, line: int, line_type: str) -> bool:
    diff = next((d for d in diffs_of(world, project["id"], commit) if d["new_path"] == path), None)
    if diff is None:
        return False
    old = new = 0
    for text in diff["diff"].split("\n"):
        if text.startswith("@@"):
            starts = text.split(" ")
            old, new = int(starts[1][1:].split(",")[0]) - 1, int(starts[2][1:].split(",")[0]) - 1
            continue
        if text.startswith("-"):
            old += 1
        elif text.startswith("+"):
            new += 1
        else:
            old, new = old + 1, new + 1
        if (line_type == "new" and text[:1] in "+ " and new == line) or (
            line_type == "old" and text[:1] in "- " and old == line
        ):
            return True
    return False


# --- seed -------------------------------------------------------------------------------------------
def seed(world: World) -> None:
    """acme/app: statuses on main's head (a retried rspec; an allowed lint failure; an external check)
    and two comments on "Fix greeting punctuation"."""
    app = world.projects[101]
    by_title = {c["title"]: c for c in commits_of(world, 101).values()}
    head = by_title["Document setup steps in README"]["id"]
    for sid, pipeline, name, stage, status, extra in (
        (7001, 7100, "build", "build", "success", {}),
        (7002, 7100, "rspec", "test", "failed", {"description": "3 examples failed"}),
        (7003, 7100, "rspec", "test", "success", {"description": "Retried: all green"}),
        (7004, 7100, "lint", "test", "failed", {"allow_failure": True}),
        (7005, 7100, "coverage/external", "test", "success", {"target_url": "https://coverage.example.com/acme/app"}),
    ):
        world.table("commit_statuses").append(_status(world, app, head, sid, pipeline, name, stage, status, extra))
    fix = by_title["Fix greeting punctuation"]["id"]
    for author, note, path, line in (
        (2, "Should empty names be greeted too?", None, None),
        (1, "Nice catch!", "src/utils/text.py", 2),
    ):
        row = {"project_id": 101, "sha": fix, "note": note, "path": path, "line": line}
        row |= {
            "line_type": "new" if path else None,
            "author": world.user_ref(author),
            "created_at": "2024-02-28T15:00:00.000Z",
        }
        world.table("commit_comments").append(row)


def _status(
    world: World, project: Project, sha: str, sid: int, pipeline: int, name: str, stage: str, status: str,
    extra: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """Entities::CommitStatus (doc/api/commits.md#list-the-statuses-of-a-commit)."""
    when = f"2024-03-01T10:{sid % 100:02d}:00.000Z"
    return {
        "project_id": project["id"], "id": sid, "sha": sha, "ref": "main", "status": status, "name": name,
        "stage": stage, "target_url": f"{project['web_url']}/-/jobs/{sid}", "description": None,
        "created_at": when, "started_at": when, "finished_at": when, "allow_failure": False, "coverage": None,
        "pipeline_id": pipeline, "author": world.user_ref(1), **extra,
    }  # fmt: skip
