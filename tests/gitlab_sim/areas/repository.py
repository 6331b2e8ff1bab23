"""Simulated GitLab API: repository tree, files, branches and commits.

doc/api/repositories.md, doc/api/repository_files.md, doc/api/branches.md, doc/api/commits.md; the
error bodies as spec/requests/api/repositories_spec.rb and lib/api/files.rb give them.

State: `world.files[project][branch][path] = bytes` (each branch's files as of its head),
`world.table("commits")` (GitLab commit JSON plus `project_id` and the `paths` it touched) and
`world.table("branches")` (name, head SHA, protection). History is walked through `parent_ids`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    Router,
    forbidden,
    invalid_param,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import DEVELOPER, MAINTAINER, REPORTER, SIM_URL, World

PRIVATE = ("project_id", "paths")  # simulator bookkeeping on a commit row, not part of GitLab's JSON


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/repository/tree")(list_tree)
    router.route("GET", "/projects/:id/repository/files/:file_path")(get_file)
    router.route("GET", "/projects/:id/repository/branches")(list_branches)
    router.route("GET", "/projects/:id/repository/commits")(list_commits)


# --- the repository model ---------------------------------------------------------------------
def git_sha(kind: str, data: bytes) -> str:
    """The object id git gives `data` (`git hash-object -t <kind>`)."""
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def commits_of(world: World, pid: int) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in world.table("commits") if c["project_id"] == pid}


def branches_of(world: World, pid: int) -> list[dict[str, Any]]:
    return [b for b in world.table("branches") if b["project_id"] == pid]


def resolve(world: World, project: dict[str, Any], ref: str) -> tuple[str, dict[str, Any]] | None:
    """A ref (branch, HEAD, full or short SHA) as (branch whose files to show, commit), or None."""
    pid, branches = project["id"], branches_of(world, project["id"])
    name = project["default_branch"] if ref == "HEAD" else ref
    commits = commits_of(world, pid)
    for branch in branches:
        if branch["name"] == name:
            return branch["name"], commits[branch["head"]]
    found = next((c for c in commits.values() if len(ref) >= 7 and c["id"].startswith(ref)), None)
    if found is None:
        return None
    # An older commit shows the files of the first branch that contains it (a simplification).
    holder = next(b for b in branches if found["id"] in {c["id"] for c in history(world, pid, b["head"])})
    return holder["name"], found


def history(world: World, pid: int, head: str) -> list[dict[str, Any]]:
    """Commits reachable from `head`, newest first (`git log`)."""
    commits, seen, todo = commits_of(world, pid), set(), [head]
    while todo:
        sha = todo.pop()
        if sha not in seen and sha in commits:
            seen.add(sha)
            todo.extend(commits[sha]["parent_ids"])
    return sorted((commits[s] for s in seen), key=lambda c: c["committed_date"], reverse=True)


def code_project(call: Call) -> dict[str, Any] | Response:
    """The project whose code the caller may read: 404 when hidden, 403 for a guest (read_code)."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if project["visibility"] != "public" and call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()
    return project


def public_commit(commit: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in commit.items() if k not in PRIVATE}


# --- endpoints ------------------------------------------------------------------------------------
async def list_tree(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    found = resolve(call.world, project, call.arg("ref") or project["default_branch"])
    if found is None:
        return not_found("Tree")
    files = call.world.files.get(project["id"], {}).get(found[0], {})
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
            blobs.append(_entry(path, "blob", git_sha("blob", data), "100755" if data[:2] == b"#!" else "100644"))
    if not call.flag("recursive"):
        trees = {p: d for p, d in trees.items() if "/" not in p[len(prefix) :]}
    entries = [_entry(p, "tree", git_sha("tree", b"".join(d)), "040000") for p, d in sorted(trees.items())]
    return paginate(call, entries + blobs)


def _entry(path: str, kind: str, sha: str, mode: str) -> dict[str, Any]:
    return {"id": sha, "name": path.rsplit("/", 1)[-1], "type": kind, "path": path, "mode": mode}


async def get_file(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    ref, file_path = call.arg("ref"), call.params["file_path"]
    if not ref:
        # Grape runs both validators of `requires :ref, allow_blank: false` (lib/api/files.rb).
        return param_error("ref is missing, ref is empty" if ref is None else "ref is empty")
    if ".." in file_path.split("/"):
        return param_error("file_path should be a valid file path")
    found = resolve(call.world, project, ref)
    if found is None:
        return not_found("Commit")
    data = call.world.files.get(project["id"], {}).get(found[0], {}).get(file_path)
    if data is None:
        return not_found("File")
    touching = [c for c in history(call.world, project["id"], found[1]["id"]) if file_path in c["paths"]]
    return JSONResponse(
        {
            "file_name": file_path.rsplit("/", 1)[-1],
            "file_path": file_path,
            "size": len(data),
            "encoding": "base64",
            "content": base64.b64encode(data).decode(),
            "content_sha256": hashlib.sha256(data).hexdigest(),
            "ref": ref,
            "blob_id": git_sha("blob", data),
            "commit_id": found[1]["id"],
            "last_commit_id": touching[0]["id"] if touching else found[1]["id"],
            "execute_filemode": data[:2] == b"#!",
        }
    )


async def list_branches(call: Call) -> Response:
    project = code_project(call)
    if isinstance(project, Response):
        return project
    search, regex = call.arg("search"), call.arg("regex")
    if search and regex:
        return param_error("search, regex are mutually exclusive")
    sort = call.arg("sort", "name_asc")
    if sort not in ("name_asc", "updated_asc", "updated_desc"):
        return invalid_value("sort")
    world, pid = call.world, project["id"]
    commits = commits_of(world, pid)
    default = next(b for b in branches_of(world, pid) if b["name"] == project["default_branch"])
    merged = {c["id"] for c in history(world, pid, default["head"])}
    level = world.access_level(call.user_id, pid)
    rows = [b for b in branches_of(world, pid) if _branch_matches(b["name"], search, regex)]
    if sort == "name_asc":
        rows.sort(key=lambda b: b["name"])
    else:
        rows.sort(key=lambda b: commits[b["head"]]["committed_date"], reverse=sort == "updated_desc")
    return paginate(call, [_branch(project, b, commits, merged, level) for b in rows])


def _branch_matches(name: str, search: str | None, regex: str | None) -> bool:
    # `^term` and `term$` anchor the search (doc/api/branches.md); it is case-insensitive.
    if regex:
        return re.search(regex, name) is not None
    if not search:
        return True
    term, low = search.lower().strip("^$"), name.lower()
    if search.startswith("^") and search.endswith("$"):
        return low == term
    if search.startswith("^"):
        return low.startswith(term)
    if search.endswith("$"):
        return low.endswith(term)
    return term in low


def _branch(
    project: dict[str, Any], branch: dict[str, Any], commits: dict[str, Any], merged: set[str], level: int
) -> dict[str, Any]:
    is_default = branch["name"] == project["default_branch"]
    can_push = level >= DEVELOPER and (not branch["protected"] or level >= MAINTAINER or branch["developers_can_push"])
    return {
        "name": branch["name"],
        "merged": not is_default and branch["head"] in merged,
        "protected": branch["protected"],
        "default": is_default,
        "developers_can_push": branch["developers_can_push"],
        "developers_can_merge": branch["developers_can_merge"],
        "can_push": can_push,
        "web_url": f"{project['web_url']}/-/tree/{branch['name']}",
        "commit": public_commit(commits[branch["head"]]),
    }


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
    commits = history(call.world, project["id"], found[1]["id"]) if found else []
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
TEXT = b'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n'
LOGIN = b"def login(username: str, password: str) -> bool:\n    return bool(username) and len(password) >= 12\n"
README = b"# Acme App\n\nThe Acme application: a small web service that greets people.\n"
SETUP = b"\n## Setup\n\n    pip install -r requirements.txt\n    python -m src.app\n"
CHANGELOG_LINES = 3000
MINIFIED = b"var acme=[" + b",".join(b"%d" % n for n in range(15000)) + b"];\n"  # one ~80 kB line


def changelog() -> bytes:
    """A long text file: line n reads "NNNN - release 1.n.0: fixed bug #n" (line 1 is the title)."""
    lines = ["# Changelog"] + [f"{n:04d} - release 1.{n}.0: fixed bug #{n}" for n in range(2, CHANGELOG_LINES + 1)]
    return ("\n".join(lines) + "\n").encode()


def seed(world: World) -> None:
    main = {
        "README.md": README + SETUP,
        ".gitignore": b"__pycache__/\n*.pyc\n",
        "src/app.py": APP,
        "src/utils/__init__.py": b'"""Utilities."""\n',
        "src/utils/text.py": TEXT,
        "assets/logo.png": PNG,
        "assets/sample.db": SQLITE,
        "scripts/deploy.sh": b"#!/bin/sh\nset -eu\necho deploying acme/app\n",
        "docs/changelog.md": changelog(),
    }
    login = {**main, "src/login.py": LOGIN, "README.md": README + SETUP + b"\n## Login\n\nSee src/login.py.\n"}
    world.files[101] = {"main": main, "feature/login": login, "fix/typo": main}
    world.files[102] = {
        "main": {
            "README.md": b"# Acme website\n\nThe public site of Acme.\n",
            "index.html": b"<!doctype html>\n<title>Acme</title>\n<h1>Welcome to Acme</h1>\n",
            "css/site.css": b"body { font-family: sans-serif; }\n",
            "js/app.min.js": MINIFIED,
        }
    }
    world.files[103] = {"main": {"notes.md": b"# Notes\n\n- buy milk\n"}}
    world.files[104] = {"main": {"README.md": b"# Secret\n\nBob's plans.\n", "plans.txt": b"World domination.\n"}}
    alice, bob = 1, 2
    app = _commits(
        world,
        101,
        [
            (alice, "2024-02-01T10:00:00", "Initial commit", ["README.md", ".gitignore", "src/app.py"]),
            (bob, "2024-02-05T14:30:00", "Add text utilities", ["src/utils/__init__.py", "src/utils/text.py"]),
            (alice, "2024-02-10T09:15:00", "Add logo and sample data", ["assets/logo.png", "assets/sample.db"]),
            (bob, "2024-02-15T16:45:00", "Add deploy script\n\nRuns on every tag.", ["scripts/deploy.sh"]),
            (alice, "2024-02-20T11:00:00", "Import the changelog", ["docs/changelog.md"]),
            (bob, "2024-02-28T13:20:00", "Fix greeting punctuation", ["src/utils/text.py"]),
            (alice, "2024-03-01T10:05:00", "Document setup steps in README", ["README.md"]),
        ],
    )
    login_head = _commits(
        world,
        101,
        [
            (bob, "2024-03-05T15:00:00", "Add login form", ["src/login.py"]),
            (bob, "2024-03-06T09:30:00", "Mention login in README", ["README.md"]),
        ],
        parent=app[-1],
    )
    _branch_row(world, 101, "main", app[-1], protected=True)
    _branch_row(world, 101, "feature/login", login_head[-1])
    _branch_row(world, 101, "fix/typo", app[5])
    site = _commits(
        world,
        102,
        [
            (alice, "2024-02-02T08:00:00", "Initial commit", ["README.md", "index.html"]),
            (alice, "2024-02-12T17:40:00", "Add a stylesheet", ["css/site.css"]),
            (alice, "2024-02-14T10:00:00", "Bundle the scripts", ["js/app.min.js"]),
        ],
    )
    _branch_row(world, 102, "main", site[-1], protected=True)
    _branch_row(world, 103, "main", _commits(world, 103, [(alice, "2024-02-03T20:00:00", "Notes", ["notes.md"])])[-1])
    secret = _commits(world, 104, [(bob, "2024-02-04T07:00:00", "Initial plans", ["README.md", "plans.txt"])])
    _branch_row(world, 104, "main", secret[-1], protected=True)


def _commits(
    world: World, pid: int, specs: list[tuple[int, str, str, list[str]]], parent: str | None = None
) -> list[str]:
    """Append a line of commits (author id, date, message, paths) after `parent`; their SHAs."""
    project, shas = world.projects[pid], []
    for user_id, date, message, paths in specs:
        user = world.users[user_id]
        sha = hashlib.sha1(f"{pid}\n{parent}\n{message}\n{date}".encode(), usedforsecurity=False).hexdigest()
        when = f"{date}.000+00:00"
        world.table("commits").append(
            {
                "project_id": pid,
                "paths": paths,
                "id": sha,
                "short_id": sha[:8],
                "created_at": when,
                "parent_ids": [parent] if parent else [],
                "title": message.split("\n", 1)[0],
                "message": message + "\n",
                "author_name": user["name"],
                "author_email": user["email"],
                "authored_date": when,
                "committer_name": user["name"],
                "committer_email": user["email"],
                "committed_date": when,
                "trailers": {},
                "extended_trailers": {},
                "web_url": f"{SIM_URL}/{project['path_with_namespace']}/-/commit/{sha}",
            }
        )
        shas.append(sha)
        parent = sha
    return shas


def _branch_row(world: World, pid: int, name: str, head: str, *, protected: bool = False) -> None:
    row = {"project_id": pid, "name": name, "head": head, "protected": protected}
    world.table("branches").append(row | {"developers_can_push": False, "developers_can_merge": False})
