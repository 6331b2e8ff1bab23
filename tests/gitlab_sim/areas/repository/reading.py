"""Reading the repository: tree, files (raw, blame), commits, compare and contributors
(doc/api/repositories.md, doc/api/repository_files.md, doc/api/commits.md)."""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, RedirectResponse, Response

from tests.gitlab_sim.areas import lfs
from tests.gitlab_sim.areas.repository.model import (
    code_project,
    file_diffs,
    file_mode,
    git_sha,
    history,
    is_binary,
    public_commit,
    resolve,
    tree_at,
)
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    invalid_param,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import World


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
            blobs.append(_entry(path, "blob", git_sha("blob", data), file_mode(data)))
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
