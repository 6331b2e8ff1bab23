"""Simulated GitLab API: the repository's tree, files, blame, commits, compare and contributors.

doc/api/repositories.md, doc/api/repository_files.md, doc/api/commits.md; the error bodies as
lib/api/files.rb, lib/api/commits.rb, app/services/files/* and Gitaly's index errors give them.

State, shared with the branches and commits areas (keep the shape):
- `world.table("commits")`: GitLab commit JSON (id, short_id, title, message, author_*, committer_*,
  *_date, created_at, parent_ids, trailers, extended_trailers, web_url) plus `project_id` and `paths`
  (the paths the commit touched); `public_commit()` strips those two.
- `world.table("branches")`: {project_id, name, head}.
- `world.table("protected_branches")`: {project_id, id, name (may hold `*`), push_access_level,
  merge_access_level, allow_force_push}; `protections()` and `can_push()` read them.
- `world.table("tags")` (branches area): {project_id, name, commit, message, created_at, tag_id}.
- `world.files[project][branch][path] = bytes`: each branch's files at its head.
- `world.extra["trees"][sha] = {path: bytes}`: the files at each commit; `tree_at()` falls back to a
  branch's files for a head and to the first parent otherwise.
To add a commit on a branch (moving it and its files), call `commit_files()`.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import itertools
import re
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from starlette.responses import JSONResponse, RedirectResponse, Response

from tests.gitlab_sim.areas import lfs
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    Router,
    bad_request,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import DEVELOPER, REPORTER, World

PRIVATE = ("project_id", "paths")  # simulator bookkeeping on a commit row, not part of GitLab's JSON
_serial = itertools.count()


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/repository/tree")(list_tree)
    router.route("GET", "/projects/:id/repository/files/:file_path")(get_file)
    router.route("GET", "/projects/:id/repository/files/:file_path/raw")(get_raw_file)
    router.route("GET", "/projects/:id/repository/files/:file_path/blame")(get_blame)
    router.route("POST", "/projects/:id/repository/files/:file_path")(create_file)
    router.route("PUT", "/projects/:id/repository/files/:file_path")(update_file)
    router.route("DELETE", "/projects/:id/repository/files/:file_path")(delete_file)
    router.route("GET", "/projects/:id/repository/commits")(list_commits)
    router.route("POST", "/projects/:id/repository/commits")(create_commit)
    router.route("GET", "/projects/:id/repository/compare")(compare)
    router.route("GET", "/projects/:id/repository/contributors")(list_contributors)


# --- the repository model ---------------------------------------------------------------------
def git_sha(kind: str, data: bytes) -> str:
    """The object id git gives `data` (`git hash-object -t <kind>`)."""
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def commits_of(world: World, pid: int) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in world.table("commits") if c["project_id"] == pid}


def branches_of(world: World, pid: int) -> list[dict[str, Any]]:
    return [b for b in world.table("branches") if b["project_id"] == pid]


def find_branch(world: World, pid: int, name: str) -> dict[str, Any] | None:
    return next((b for b in branches_of(world, pid) if b["name"] == name), None)


def resolve(world: World, project: dict[str, Any], ref: str) -> dict[str, Any] | None:
    """The commit a ref names: a branch, HEAD, a tag, or a full or short (7+) SHA."""
    pid, commits = project["id"], commits_of(world, project["id"])
    name = project["default_branch"] if ref == "HEAD" else ref
    branch = find_branch(world, pid, name)
    if branch is not None:
        return commits[branch["head"]]
    tag = next((t for t in world.table("tags") if t["project_id"] == pid and t["name"] == ref), None)
    if tag is not None:
        return commits[tag["commit"]]
    return next((c for c in commits.values() if len(ref) >= 7 and c["id"].startswith(ref)), None)


def history(world: World, pid: int, head: str) -> list[dict[str, Any]]:
    """Commits reachable from `head`, newest first (`git log`); ties go to the later-made commit."""
    order = {c["id"]: n for n, c in enumerate(world.table("commits"))}
    commits, seen, todo = commits_of(world, pid), set(), [head]
    while todo:
        sha = todo.pop()
        if sha not in seen and sha in commits:
            seen.add(sha)
            todo.extend(commits[sha]["parent_ids"])
    return sorted((commits[s] for s in seen), key=lambda c: (c["committed_date"], order[c["id"]]), reverse=True)


def tree_at(world: World, pid: int, sha: str) -> dict[str, bytes]:
    """The files at a commit: a branch head's current files, a recorded tree, or its parent's."""
    for branch in branches_of(world, pid):
        if branch["head"] == sha and branch["name"] in world.files.get(pid, {}):
            return world.files[pid][branch["name"]]
    trees = world.extra.setdefault("trees", {})
    commits = commits_of(world, pid)
    while sha not in trees and sha in commits and commits[sha]["parent_ids"]:
        sha = commits[sha]["parent_ids"][0]
    return trees.get(sha, {})


def commit_files(
    world: World,
    project: dict[str, Any],
    branch: str,
    *,
    user_id: int,
    message: str,
    files: dict[str, bytes],
    parent: str | None,
) -> dict[str, Any]:
    """Record a commit of `files` (the whole tree) on `branch` after `parent`; the branch moves to it."""
    pid, user = project["id"], world.users[user_id]
    before = tree_at(world, pid, parent) if parent else {}
    paths = sorted(p for p in set(before) | set(files) if before.get(p) != files.get(p))
    when = datetime.now(UTC).isoformat(timespec="milliseconds")
    sha = hashlib.sha1(
        f"{pid}\n{parent}\n{message}\n{when}\n{next(_serial)}".encode(), usedforsecurity=False
    ).hexdigest()
    row = _commit_row(project, sha, user, when, message, [parent] if parent else [], paths)
    world.table("commits").append(row)
    world.extra.setdefault("trees", {})[sha] = dict(files)
    world.files.setdefault(pid, {})[branch] = dict(files)
    found = find_branch(world, pid, branch)
    if found is None:
        world.table("branches").append({"project_id": pid, "name": branch, "head": sha})
    else:
        found["head"] = sha
    return row


def _commit_row(
    project: dict[str, Any],
    sha: str,
    user: dict[str, Any],
    when: str,
    message: str,
    parents: list[str],
    paths: list[str],
) -> dict[str, Any]:
    return {
        "project_id": project["id"],
        "paths": paths,
        "id": sha,
        "short_id": sha[:8],
        "created_at": when,
        "parent_ids": parents,
        "title": message.split("\n", 1)[0],
        "message": message if message.endswith("\n") else message + "\n",
        "author_name": user["name"],
        "author_email": user["email"],
        "authored_date": when,
        "committer_name": user["name"],
        "committer_email": user["email"],
        "committed_date": when,
        "trailers": {},
        "extended_trailers": {},
        "web_url": f"{project['web_url']}/-/commit/{sha}",
    }


def protections(world: World, pid: int, branch: str) -> list[dict[str, Any]]:
    """The protected-branch rules matching a branch name (exact or `*` wildcards)."""
    rows = [p for p in world.table("protected_branches") if p["project_id"] == pid]
    return [p for p in rows if p["name"] == branch or ("*" in p["name"] and fnmatchcase(branch, p["name"]))]


def can_push(world: World, project: dict[str, Any], user_id: int | None, branch: str) -> bool:
    """Developers push to unprotected branches; a protected one needs its push level (the most
    permissive matching rule wins; doc/user/project/repository/branches/protected.md)."""
    level = world.access_level(user_id, project["id"])
    rules = protections(world, project["id"], branch)
    if level < DEVELOPER:
        return False
    return not rules or any(0 < rule["push_access_level"] <= level for rule in rules)


def code_project(call: Call) -> dict[str, Any] | Response:
    """The project whose code the caller may read: 404 when hidden, 403 for a guest (read_code)."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if project["visibility"] != "public" and call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()
    return project


def push_project(call: Call) -> dict[str, Any] | Response:
    """The project the caller may push code to (`authorize! :push_code`): developers and up."""
    project = code_project(call)
    if not isinstance(project, Response) and call.world.access_level(call.user_id, project["id"]) < DEVELOPER:
        return forbidden()
    return project


def public_commit(commit: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in commit.items() if k not in PRIVATE}


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8000]


def file_diffs(old: dict[str, bytes], new: dict[str, bytes]) -> list[dict[str, Any]]:
    """GitLab diff entries (doc/api/commits.md#get-the-diff-of-a-commit) between two trees; a file
    deleted and added again with the same content is a rename."""
    gone = {p: d for p, d in old.items() if p not in new}
    renamed: dict[str, str] = {}  # new path -> old path
    for path in sorted(p for p in new if p not in old):
        source = next((p for p, d in gone.items() if d == new[path] and p not in renamed.values()), None)
        if source is not None:
            renamed[path] = source
    entries = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path, old.get(renamed.get(path, ""))), new.get(path)
        if (before == after and path not in renamed) or path in renamed.values():
            continue
        entries.append(
            {
                "old_path": renamed.get(path, path),
                "new_path": path,
                "a_mode": "0" if before is None else _mode(before),
                "b_mode": "0" if after is None else _mode(after),
                "new_file": before is None,
                "renamed_file": path in renamed,
                "deleted_file": after is None,
                "generated_file": False,
                "diff": _unified(before or b"", after or b""),
            }
        )
    return entries


def _mode(data: bytes) -> str:
    return "100755" if data[:2] == b"#!" else "100644"


def _unified(before: bytes, after: bytes) -> str:
    if is_binary(before) or is_binary(after):
        return ""  # GitLab sends no text diff for binary files
    lines = difflib.unified_diff(
        before.decode(errors="replace").splitlines(keepends=True),
        after.decode(errors="replace").splitlines(keepends=True),
        lineterm="\n",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in itertools.islice(lines, 2, None))


def diff_stats(diffs: list[dict[str, Any]]) -> dict[str, int]:
    lines = [line for d in diffs for line in d["diff"].split("\n")]
    added = sum(1 for line in lines if line.startswith("+"))
    removed = sum(1 for line in lines if line.startswith("-"))
    return {"additions": added, "deletions": removed, "total": added + removed}


# --- reading --------------------------------------------------------------------------------------
async def list_tree(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    found = resolve(call.world, project, call.arg("ref") or project["default_branch"])
    if found is None:
        return not_found("Tree")
    files = tree_at(call.world, project["id"], found["id"])
    base = (call.arg("path") or "").strip("/")
    prefix = f"{base}/" if base else ""
    if base and not any(p.startswith(prefix) for p in files):
        # A missing path, or one naming a file (spec/requests/api/repositories_spec.rb).
        return not_found("invalid revision or path")
    trees: dict[str, list[bytes]] = {}
    blobs = []
    for path, data in sorted(files.items()):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        for depth in range(1, len(parts)):
            trees.setdefault(prefix + "/".join(parts[:depth]), []).append(data)
        if len(parts) == 1 or call.flag("recursive"):
            blobs.append(_entry(path, "blob", git_sha("blob", data), _mode(data)))
    if not call.flag("recursive"):
        trees = {p: d for p, d in trees.items() if "/" not in p[len(prefix) :]}
    entries = [_entry(p, "tree", git_sha("tree", b"".join(d)), "040000") for p, d in sorted(trees.items())]
    return paginate(call, entries + blobs)


def _entry(path: str, kind: str, sha: str, mode: str) -> dict[str, Any]:
    return {"id": sha, "name": path.rsplit("/", 1)[-1], "type": kind, "path": path, "mode": mode}


def _blob(call: Call, *, ref_required: bool = True) -> tuple[dict[str, Any], dict[str, Any], bytes] | Response:
    """`assign_file_vars!` of lib/api/files.rb: (project, blob metadata, bytes), or the error response."""
    project = code_project(call)
    if isinstance(project, Response):
        return project
    ref, file_path = call.arg("ref"), call.params["file_path"]
    if ref is None and not ref_required:
        ref = "HEAD"
    if not ref:
        # Grape runs both validators of `requires :ref, allow_blank: false` (lib/api/files.rb).
        return param_error("ref is missing, ref is empty" if ref is None else "ref is empty")
    if ".." in file_path.split("/"):
        return param_error("file_path should be a valid file path")
    commit = resolve(call.world, project, ref)
    if commit is None:
        return not_found("Commit")
    data = tree_at(call.world, project["id"], commit["id"]).get(file_path)
    if data is None:
        return not_found("File")
    meta = {
        "file_name": file_path.rsplit("/", 1)[-1],
        "file_path": file_path,
        "size": len(data),
        "encoding": "base64",
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "ref": call.arg("ref"),
        "blob_id": git_sha("blob", data),
        "commit_id": commit["id"],
        "last_commit_id": last_commit_for(call.world, project["id"], commit["id"], file_path),
        "execute_filemode": data[:2] == b"#!",
    }
    return project, meta, data


def last_commit_for(world: World, pid: int, head: str, path: str) -> str:
    touching = (c["id"] for c in history(world, pid, head) if path in c["paths"])
    return next(touching, head)


def _headers(meta: dict[str, Any]) -> dict[str, str]:
    # set_http_headers(blob_data): X-Gitlab-<Field-Name> (lib/api/helpers/headers_helpers.rb).
    return {
        "x-gitlab-" + k.replace("_", "-"): str(v).lower() if isinstance(v, bool) else str(v) for k, v in meta.items()
    }


async def get_file(call: Call) -> Response:
    found = _blob(call)
    if isinstance(found, Response):
        return found
    _, meta, data = found
    return JSONResponse({**meta, "content": base64.b64encode(data).decode()}, headers=_headers(meta))


async def get_raw_file(call: Call) -> Response:
    # `ref` is optional here: HEAD of the project by default (doc/api/repository_files.md).
    found = _blob(call, ref_required=False)
    if isinstance(found, Response):
        return found
    project, meta, data = found
    if call.flag("lfs"):  # the LFS object instead of its pointer, when there is one (lib/api/files.rb)
        stored = lfs.content(call.world, project["id"], data)
        if isinstance(stored, str):
            return RedirectResponse(stored, status_code=302)
        data = stored or data
    kind = "application/octet-stream" if is_binary(data) else "text/plain; charset=utf-8"
    return Response(data, media_type=kind, headers=_headers(meta))


async def get_blame(call: Call) -> Response:
    found = _blob(call)
    if isinstance(found, Response):
        return found
    project, meta, _ = found
    first, last = call.query.get("range[start]"), call.query.get("range[end]")
    if (first is None) != (last is None):
        return param_error("range[end] is missing" if last is None else "range[start] is missing")
    owners = blame(call.world, project, meta["commit_id"], meta["file_path"])
    start, end = 1, len(owners)
    if first is not None:
        if not (first.isdigit() and last.isdigit() and int(first) > 0 and int(last) > 0):
            return param_error("range[start] does not have a valid value")
        start, end = int(first), int(last)
        if start > end:
            return bad_request("range[start] must be less than or equal to range[end]")
        if start > len(owners):
            # Gitaly refuses a range starting past the end (git blame -L: "file has only N lines").
            return bad_request("range is outside of the file length")
    groups: list[dict[str, Any]] = []
    for commit, line in owners[start - 1 : end]:
        if not groups or groups[-1]["commit"]["id"] != commit["id"]:
            keys = ("id", "message", "parent_ids", "authored_date", "author_name", "author_email")
            keys += ("committed_date", "committer_name", "committer_email")
            groups.append({"commit": {k: commit[k] for k in keys}, "lines": []})
        groups[-1]["lines"].append(line)
    return JSONResponse(groups, headers=_headers(meta))


def blame(world: World, project: dict[str, Any], head: str, path: str) -> list[tuple[dict[str, Any], str]]:
    """(commit, line) for each line of `path` at `head`, following the file's history oldest first."""
    pid = project["id"]
    owners: list[tuple[dict[str, Any], str]] = []
    for commit in reversed([c for c in history(world, pid, head) if path in c["paths"]]):
        data = tree_at(world, pid, commit["id"]).get(path)
        lines = data.decode(errors="replace").splitlines() if data is not None else []
        matcher = difflib.SequenceMatcher(a=[line for _, line in owners], b=lines, autojunk=False)
        carried = [(commit, line) for line in lines]
        for a, b, size in matcher.get_matching_blocks():
            carried[b : b + size] = owners[a : a + size]
        owners = carried
    return owners


async def list_commits(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    bounds = {}
    for name in ("since", "until"):
        if (value := call.arg(name)) is not None:
            try:
                bounds[name] = _datetime(value)
            except ValueError:
                return invalid_param(name)
    found = resolve(call.world, project, call.arg("ref_name") or project["default_branch"])
    # An unknown ref_name lists nothing rather than failing (lib/api/commits.rb).
    commits = history(call.world, project["id"], found["id"]) if found else []
    if path := (call.arg("path") or "").strip("/"):
        commits = [c for c in commits if any(p == path or p.startswith(f"{path}/") for p in c["paths"])]
    if author := call.arg("author"):
        # git log --author: matched against "Name <email>", case-sensitive.
        commits = [c for c in commits if author in f"{c['author_name']} <{c['author_email']}>"]
    if "since" in bounds:
        commits = [c for c in commits if _datetime(c["committed_date"]) >= bounds["since"]]
    if "until" in bounds:
        commits = [c for c in commits if _datetime(c["committed_date"]) <= bounds["until"]]
    return paginate_without_count(call, [public_commit(c) for c in commits])


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def paginate_without_count(call: Call, items: list[Any]) -> Response:
    """Commits are paginated without x-total/x-total-pages, and a full page always claims a next one
    (lib/api/commits.rb: `total_count: offset + commits.size + 1`, `exclude_total_headers: true`)."""
    response = paginate(call, items)
    if response.status_code != 200:
        return response
    page, per_page = int(response.headers["x-page"]), int(response.headers["x-per-page"])
    del response.headers["x-total"], response.headers["x-total-pages"]
    links = [link for link in response.headers["link"].split(", ") if 'rel="prev"' in link or 'rel="first"' in link]
    if len(items) >= page * per_page:
        response.headers["x-next-page"] = str(page + 1)
        first = links[-1]
        links.insert(0, re.sub(r"([?&])page=1&", rf"\g<1>page={page + 1}&", first).replace('"first"', '"next"'))
    else:
        response.headers["x-next-page"] = ""
    response.headers["link"] = ", ".join(links)
    return response


async def compare(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    missing = [name for name in ("from", "to") if not call.arg(name)]
    if missing:
        return param_error(", ".join(f"{name} is missing" for name in missing))
    world, pid = call.world, project["id"]
    start, head = resolve(world, project, call.arg("from")), resolve(world, project, call.arg("to"))
    if start is None or head is None:
        return not_found("Ref")
    behind = {c["id"] for c in history(world, pid, start["id"])}
    commits = [c for c in history(world, pid, head["id"]) if c["id"] not in behind]
    # from...to diffs against the merge base; straight=true (from..to) against `from` itself.
    base = (
        start
        if call.flag("straight")
        else next((c for c in history(world, pid, head["id"]) if c["id"] in behind), start)
    )
    same = start["id"] == head["id"]
    diffs = [] if same else file_diffs(tree_at(world, pid, base["id"]), tree_at(world, pid, head["id"]))
    listed = [public_commit(c) for c in reversed(commits)]  # oldest first
    return JSONResponse(
        {
            "commit": listed[-1] if listed else None,
            "commits": listed,
            "diffs": diffs,
            "compare_timeout": False,
            "compare_same_ref": same,
            "web_url": f"{project['web_url']}/-/compare/{start['short_id']}...{head['short_id']}",
        }
    )


async def list_contributors(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    order, sort = call.arg("order_by", "commits"), call.arg("sort", "asc")
    if order not in ("name", "email", "commits"):
        return invalid_value("order_by")
    if sort not in ("asc", "desc"):
        return invalid_value("sort")
    head = resolve(call.world, project, project["default_branch"])
    people: dict[str, dict[str, Any]] = {}
    for commit in history(call.world, project["id"], head["id"]) if head else []:
        person = people.setdefault(
            commit["author_email"],
            {"name": commit["author_name"], "email": commit["author_email"], "commits": 0, "additions": 0},
        )
        person["commits"] += 1
        person["deletions"] = 0  # always 0 since GitLab 13.4 (doc/api/repositories.md)
    rows = sorted(people.values(), key=lambda p: (p[order], p["email"]), reverse=sort == "desc")
    return paginate(call, rows)


# --- writing --------------------------------------------------------------------------------------
def _start(call: Call, project: dict[str, Any], branch: str, start_branch: str | None) -> dict[str, Any] | Response:
    """The commit a write starts from, as Commits::CreateService validates it (400s)."""
    world, pid = call.world, project["id"]
    start = start_branch or branch
    source = find_branch(world, pid, start)
    if source is None:
        return bad_request("You can only create or edit files when you are on a branch")
    if start != branch and find_branch(world, pid, branch) is not None:
        return bad_request(f"A branch called '{branch}' already exists. Switch to that branch in order to make changes")
    return commits_of(world, pid)[source["head"]]


def _content(value: str, encoding: str) -> bytes | None:
    if encoding != "base64":
        return value.encode()
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


async def _file_write(call: Call, action: str) -> Response:
    """POST/PUT/DELETE .../repository/files/:file_path: one action, one commit (lib/api/files.rb)."""
    project = push_project(call)
    if isinstance(project, Response):
        return project
    required = ["branch", "commit_message"] + (["content"] if action != "delete" else [])
    problems = [f"{name} is missing" for name in required if call.arg(name) is None]
    # branch and commit_message are `allow_blank: false`; an empty file is fine.
    problems += [f"{name} is empty" for name in required[:2] if call.arg(name) == ""]
    if problems:
        return param_error(", ".join(problems))
    encoding = call.arg("encoding", "text")
    if encoding not in ("text", "base64"):
        return invalid_value("encoding")
    branch, path = call.arg("branch"), call.params["file_path"]
    if ".." in path.split("/"):
        return param_error("file_path should be a valid file path")
    if not can_push(call.world, project, call.user_id, branch):
        return bad_request("You are not allowed to push into this branch")
    start = _start(call, project, branch, call.arg("start_branch"))
    if isinstance(start, Response):
        return start
    files = dict(tree_at(call.world, project["id"], start["id"]))
    if action == "create" and path in files:
        return bad_request("A file with this name already exists")
    if action != "create" and path not in files:
        return bad_request("A file with this name doesn't exist")
    last = call.arg("last_commit_id")
    if last and action != "create" and last != last_commit_for(call.world, project["id"], start["id"], path):
        verb = (
            "update a file that has changed" if action == "update" else "delete a file that has been previously updated"
        )
        return bad_request(f"You are attempting to {verb} since you started editing it.")
    if action == "delete":
        del files[path]
    else:
        content = _content(call.arg("content"), encoding)
        if content is None:
            return bad_request("Invalid base64 content")
        files[path] = content
    message = call.arg("commit_message")
    commit_files(
        call.world, project, branch, user_id=call.user_id or 0, message=message, files=files, parent=start["id"]
    )
    if action == "delete":
        return Response(status_code=204)
    return JSONResponse({"file_path": path, "branch": branch}, status_code=201 if action == "create" else 200)


async def create_file(call: Call) -> Response:
    return await _file_write(call, "create")


async def update_file(call: Call) -> Response:
    return await _file_write(call, "update")


async def delete_file(call: Call) -> Response:
    return await _file_write(call, "delete")


ACTIONS = ("create", "update", "move", "delete", "chmod")


def _action_error(action: Any, index: int) -> str | None:
    """validate_commit_action! of lib/api/commits.rb."""
    if not isinstance(action, dict) or not action.get("action"):
        return f"actions[{index}][action] is required"
    if not action.get("file_path"):
        return f"actions[{index}][file_path] is required"
    kind = action["action"]
    if kind not in ACTIONS:
        return f"actions[{index}][action] must be one of: create, update, move, delete, chmod"
    if action.get("encoding", "text") not in ("text", "base64"):
        return f"actions[{index}][encoding] must be text or base64"
    if kind == "update" and "content" not in action:
        return f"actions[{index}][content] is required for update action"
    if kind == "move" and not action.get("previous_path"):
        return f"actions[{index}][previous_path] is required for move action"
    if kind == "chmod" and "execute_filemode" not in action:
        return f"actions[{index}][execute_filemode] is required for chmod action"
    return None


def _apply(world: World, pid: int, start: str, files: dict[str, bytes], action: dict[str, Any]) -> str | None:
    """One action of Files::MultiService on `files`; the error message Gitaly would give, or None."""
    kind, path = action["action"], action["file_path"]
    source = action.get("previous_path") if kind == "move" else path
    if kind != "create" and source not in files:
        return "A file with this name doesn't exist"
    if kind in ("create", "move") and path in files:
        return "A file with this name already exists"
    last = action.get("last_commit_id")
    if last and kind in ("update", "move", "delete") and last != last_commit_for(world, pid, start, source):
        return f"The file has changed since you started editing it: {source}"
    if kind == "delete":
        del files[path]
    elif kind == "move":
        data = files.pop(source)
        files[path] = (
            data
            if action.get("content") is None
            else _content(action["content"], action.get("encoding", "text")) or b""
        )
    elif kind in ("create", "update"):
        content = _content(action.get("content") or "", action.get("encoding", "text"))
        if content is None:
            return "Invalid base64 content"
        files[path] = content
    # chmod: the simulator keeps no file modes (a script is executable when it starts with #!).
    return None


async def create_commit(call: Call) -> Response:
    """POST .../repository/commits: several file actions as one commit (lib/api/commits.rb)."""
    project = code_project(call)
    if isinstance(project, Response):
        return project
    branch = call.arg("branch")
    if call.user_id is None or not can_push(call.world, project, call.user_id, branch or ""):
        return error(403, "403 Forbidden - You are not allowed to push into this branch")
    for name in ("branch", "commit_message", "actions"):
        if not call.arg(name):
            return bad_request(f"400 Bad request - {name} is required")
    actions = call.arg("actions")
    if not isinstance(actions, list):
        return bad_request("400 Bad request - actions is required")
    for index, action in enumerate(actions):
        if problem := _action_error(action, index):
            return bad_request(f"400 Bad request - {problem}")
    start = _start(call, project, branch, call.arg("start_branch"))
    if isinstance(start, Response):
        return start
    before = tree_at(call.world, project["id"], start["id"])
    files = dict(before)
    for action in actions:
        if problem := _apply(call.world, project["id"], start["id"], files, action):
            return bad_request(problem)
    row = commit_files(
        call.world,
        project,
        branch,
        user_id=call.user_id,
        message=call.arg("commit_message"),
        files=files,
        parent=start["id"],
    )
    detail = {**public_commit(row), "status": None, "last_pipeline": None}
    if call.flag("stats") is not False:
        detail["stats"] = diff_stats(file_diffs(before, files))
    return JSONResponse(detail, status_code=201)


# --- seed -----------------------------------------------------------------------------------------
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
    + b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    + b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
SQLITE = b"SQLite format 3\x00\x10\x00\x01\x01\x00@  \x00\x00\x00\x01" + b"\x00" * 84  # valid UTF-8, yet binary
APP = b'''"""The Acme application entry point."""

from src.utils.text import greet


def main() -> None:
    print(greet("world"))


if __name__ == "__main__":
    main()
'''
TEXT_V1 = b'def greet(name: str) -> str:\n    return f"Hello, {name}"\n'
TEXT = b'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n'
LOGIN = b"def login(username: str, password: str) -> bool:\n    return bool(username) and len(password) >= 12\n"
README = b"# Acme App\n\nThe Acme application: a small web service that greets people.\n"
SETUP = b"\n## Setup\n\n    pip install -r requirements.txt\n    python -m src.app\n"
CHANGELOG_LINES = 3000
SITE_README = b"# Acme website\n\nThe public site of Acme.\n"
SITE_INDEX = b"<!doctype html>\n<title>Acme</title>\n<h1>Welcome to Acme</h1>\n"
SITE_CSS = b"body { font-family: sans-serif; }\n"
MINIFIED = b"var acme=[" + b",".join(b"%d" % n for n in range(15000)) + b"];\n"  # one ~80 kB line


def changelog() -> bytes:
    """A long text file: line n reads "NNNN - release 1.n.0: fixed bug #n" (line 1 is the title)."""
    lines = ["# Changelog"] + [f"{n:04d} - release 1.{n}.0: fixed bug #{n}" for n in range(2, CHANGELOG_LINES + 1)]
    return ("\n".join(lines) + "\n").encode()


def seed(world: World) -> None:
    """acme/app: main (7 commits), feature/login (2 ahead), fix/typo (merged, at the 6th); one commit
    line each in acme/website, alice/notes and bob/secret."""
    alice, bob = 1, 2
    app = _commits(
        world,
        101,
        [
            (
                alice,
                "2024-02-01T10:00:00",
                "Initial commit",
                {"README.md": README, ".gitignore": b"__pycache__/\n*.pyc\n", "src/app.py": APP},
            ),
            (
                bob,
                "2024-02-05T14:30:00",
                "Add text utilities",
                {"src/utils/__init__.py": b'"""Utilities."""\n', "src/utils/text.py": TEXT_V1},
            ),
            (
                alice,
                "2024-02-10T09:15:00",
                "Add logo and sample data",
                {"assets/logo.png": PNG, "assets/sample.db": SQLITE},
            ),
            (
                bob,
                "2024-02-15T16:45:00",
                "Add deploy script\n\nRuns on every tag.",
                {"scripts/deploy.sh": b"#!/bin/sh\nset -eu\necho deploying acme/app\n"},
            ),
            (alice, "2024-02-20T11:00:00", "Import the changelog", {"docs/changelog.md": changelog()}),
            (bob, "2024-02-28T13:20:00", "Fix greeting punctuation", {"src/utils/text.py": TEXT}),
            (alice, "2024-03-01T10:05:00", "Document setup steps in README", {"README.md": README + SETUP}),
        ],
    )
    login = _commits(
        world,
        101,
        [
            (bob, "2024-03-05T15:00:00", "Add login form", {"src/login.py": LOGIN}),
            (
                bob,
                "2024-03-06T09:30:00",
                "Mention login in README",
                {"README.md": README + SETUP + b"\n## Login\n\nSee src/login.py.\n"},
            ),
        ],
        parent=app[-1],
    )
    _branches(world, 101, {"main": app[-1], "feature/login": login[-1], "fix/typo": app[5]})
    site = _commits(
        world,
        102,
        [
            (
                alice,
                "2024-02-02T08:00:00",
                "Initial commit",
                {"README.md": SITE_README, "index.html": SITE_INDEX, **lfs.website_files()},
            ),
            (alice, "2024-02-12T17:40:00", "Add a stylesheet", {"css/site.css": SITE_CSS}),
            (alice, "2024-02-14T10:00:00", "Bundle the scripts", {"js/app.min.js": MINIFIED}),
        ],
    )
    _branches(world, 102, {"main": site[-1]})
    lfs.seed(world, 102)
    notes = _commits(world, 103, [(alice, "2024-02-03T20:00:00", "Notes", {"notes.md": b"# Notes\n\n- buy milk\n"})])
    _branches(world, 103, {"main": notes[-1]})
    plans = {"README.md": b"# Secret\n\nBob's plans.\n", "plans.txt": b"World domination.\n"}
    _branches(world, 104, {"main": _commits(world, 104, [(bob, "2024-02-04T07:00:00", "Initial plans", plans)])[-1]})


def _commits(
    world: World, pid: int, specs: list[tuple[int, str, str, dict[str, bytes]]], parent: str | None = None
) -> list[str]:
    """Append a line of commits (author id, date, message, changed files) after `parent`; their SHAs."""
    project, shas, trees = world.projects[pid], [], world.extra.setdefault("trees", {})
    for user_id, date, message, changes in specs:
        sha = hashlib.sha1(f"{pid}\n{parent}\n{message}\n{date}".encode(), usedforsecurity=False).hexdigest()
        when = f"{date}.000+00:00"
        row = _commit_row(project, sha, world.users[user_id], when, message, [parent] if parent else [], list(changes))
        world.table("commits").append(row)
        trees[sha] = {**(trees[parent] if parent else {}), **changes}
        shas.append(sha)
        parent = sha
    return shas


def _branches(world: World, pid: int, heads: dict[str, str]) -> None:
    for name, head in heads.items():
        world.table("branches").append({"project_id": pid, "name": name, "head": head})
        world.files.setdefault(pid, {})[name] = dict(world.extra["trees"][head])
