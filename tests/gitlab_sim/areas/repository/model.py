"""The simulated repository's model: commits, branches and their protections, the files at each commit,
diffs, and commit_files() to add a commit on a branch (state described in the package docstring)."""

from __future__ import annotations

import difflib
import hashlib
import itertools
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from starlette.responses import Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    forbidden,
    not_found,
)
from tests.gitlab_sim.world import DEVELOPER, REPORTER, World

PRIVATE = ("project_id", "paths")  # simulator bookkeeping on a commit row, not part of GitLab's JSON


_serial = itertools.count()


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
    row = commit_row(project, sha, user, when, message, [parent] if parent else [], paths)
    world.table("commits").append(row)
    world.extra.setdefault("trees", {})[sha] = dict(files)
    world.files.setdefault(pid, {})[branch] = dict(files)
    found = find_branch(world, pid, branch)
    if found is None:
        world.table("branches").append({"project_id": pid, "name": branch, "head": sha})
    else:
        found["head"] = sha
    return row


def commit_row(
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
                "a_mode": "0" if before is None else file_mode(before),
                "b_mode": "0" if after is None else file_mode(after),
                "new_file": before is None,
                "renamed_file": path in renamed,
                "deleted_file": after is None,
                "generated_file": False,
                "diff": _unified(before or b"", after or b""),
            }
        )
    return entries


def file_mode(data: bytes) -> str:
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
