"""Simulated GitLab API: basic (CE) search (doc/api/search.md; lib/api/search.rb and
lib/api/helpers/search_helpers.rb for the scopes and errors).

Read-only over the other areas' rows; a table another area has not seeded counts as empty. Results
respect what the caller may see exactly as the owning areas do: readable projects, issues turned off,
confidential issues and internal notes, code (blobs, commits) for reporters and up on private projects.
Basic search sorts by created_at, newest first.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from tests.gitlab_sim.areas import groups as group_area
from tests.gitlab_sim.areas import repository, snippets
from tests.gitlab_sim.areas.issues import can_see
from tests.gitlab_sim.areas.merge_requests import DETAIL_ONLY
from tests.gitlab_sim.areas.projects import SIMPLE_FIELDS, readable_project
from tests.gitlab_sim.http import Call, Router, error, not_found, paginate, param_error
from tests.gitlab_sim.world import REPORTER, World

Row = dict[str, Any]
# API::Helpers::SearchHelpers in CE: blobs, commits, notes and wiki_blobs need advanced search above a project.
GLOBAL_SCOPES = ("projects", "issues", "merge_requests", "milestones", "snippet_titles", "users")
GROUP_SCOPES = ("projects", "issues", "merge_requests", "milestones", "users")
PROJECT_SCOPES = ("issues", "merge_requests", "milestones", "notes", "wiki_blobs", "commits", "blobs", "users")
STATES = ("all", "opened", "closed", "merged")
USER_FIELDS = ("id", "username", "name", "state", "locked", "avatar_url", "web_url")
CONTEXT = 2  # lines around a code match (git grep --context)
WIKI_EXTENSIONS = {"markdown": "md", "rdoc": "rdoc", "asciidoc": "asciidoc", "org": "org"}


def register(router: Router) -> None:
    router.route("GET", "/search")(search_global)
    router.route("GET", "/groups/:id/search")(search_group)
    router.route("GET", "/projects/:id/search")(search_project)


def seed(world: World) -> None:
    pass


def rows(world: World, kind: str) -> list[Row]:
    return world.rows.get(kind, [])


# --- endpoints ----------------------------------------------------------------------------------
def _validate(call: Call, scopes: tuple[str, ...]) -> Response | None:
    """authenticate!, then Grape's parameter validation, all errors in one message."""
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    problems = [f"{name} is missing" for name in ("search", "scope") if call.arg(name) is None]
    if call.arg("scope") is not None and call.arg("scope") not in scopes:
        problems.append("scope does not have a valid value")
    if call.arg("state") is not None and call.arg("state") not in STATES:
        problems.append("state does not have a valid value")
    return param_error(", ".join(problems)) if problems else None


async def search_global(call: Call) -> Response:
    if (problem := _validate(call, GLOBAL_SCOPES)) is not None:
        return problem
    world = call.world
    projects = [p for p in world.projects.values() if world.can_read(call.user_id, p)]
    return paginate(call, _search(call, _unarchived(call, projects), users=list(world.users)))


async def search_group(call: Call) -> Response:
    if (problem := _validate(call, GROUP_SCOPES)) is not None:
        return problem
    world = call.world
    group = group_area.find_group(world, call.params["id"])
    if group is None or not group_area.can_read_group(world, call.user_id, group):
        return not_found("Group")
    paths = {g["full_path"] for g in group_area.descendants(world, group)}
    projects = [p for p in world.projects.values() if p["namespace"]["full_path"] in paths]
    projects = _unarchived(call, [p for p in projects if world.can_read(call.user_id, p)])
    return paginate(call, _search(call, projects, users=list(group_area.inherited_levels(world, group))))


async def search_project(call: Call) -> Response:
    if (problem := _validate(call, PROJECT_SCOPES)) is not None:
        return problem
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    members = set(call.world.members.get(project["id"], {}))
    group = group_area.find_group(call.world, project["namespace"]["full_path"])
    if group is not None:
        members |= set(group_area.inherited_levels(call.world, group))  # project.team includes group members
    return paginate(call, _search(call, [project], users=sorted(members)))


def _unarchived(call: Call, projects: list[Row]) -> list[Row]:
    """Global and group search leave archived projects out unless include_archived=true."""
    return projects if call.flag("include_archived") else [p for p in projects if not p.get("archived")]


def _search(call: Call, projects: list[Row], *, users: list[int]) -> list[Row]:
    scope, term = call.arg("scope"), str(call.arg("search"))
    if scope == "users":
        return _users(call.world, users, term)
    finders: dict[str, Callable[[Call, list[Row], str], list[Row]]] = {
        "projects": _projects,
        "issues": _issues,
        "merge_requests": _merge_requests,
        "milestones": _milestones,
        "snippet_titles": _snippets,
        "notes": _notes,
        "commits": _commits,
        "blobs": _blobs,
        "wiki_blobs": _wiki_blobs,
    }
    return finders[scope](call, projects, term)


# --- scopes -------------------------------------------------------------------------------------
def _has(term: str, *texts: Any) -> bool:
    return any(term.lower() in str(t or "").lower() for t in texts)


def _newest_first(found: list[Row]) -> list[Row]:
    return sorted(found, key=lambda r: (r.get("created_at") or "", r.get("id", 0)), reverse=True)


def _projects(call: Call, projects: list[Row], term: str) -> list[Row]:
    found = [p for p in projects if _has(term, p["name"], p["path"], p["description"])]
    return [{k: p[k] for k in SIMPLE_FIELDS if k in p} for p in _newest_first(found)]


def _state_matches(call: Call, row: Row) -> bool:
    return call.arg("state", "all") in ("all", row["state"])


def _issues(call: Call, projects: list[Row], term: str) -> list[Row]:
    ids = {p["id"] for p in projects if p.get("issues_enabled", True)}
    world, confidential = call.world, call.flag("confidential")
    found = [i for i in rows(world, "issues") if i["project_id"] in ids and can_see(world, call.user_id, i)]
    found = [i for i in found if _has(term, i["title"], i["description"]) and _state_matches(call, i)]
    if confidential is not None:
        found = [i for i in found if i["confidential"] == confidential]
    return _newest_first(found)


def _can_read_mrs(world: World, user_id: int | None, project: Row) -> bool:
    if not project.get("merge_requests_enabled", True):
        return False
    return project["visibility"] == "public" or world.access_level(user_id, project["id"]) >= REPORTER


def _merge_requests(call: Call, projects: list[Row], term: str) -> list[Row]:
    ids = {p["id"] for p in projects if _can_read_mrs(call.world, call.user_id, p)}
    found = [m for m in rows(call.world, "merge_requests") if m["project_id"] in ids]
    found = [m for m in found if _has(term, m["title"], m.get("description")) and _state_matches(call, m)]
    return [{k: v for k, v in m.items() if k not in DETAIL_ONLY} for m in _newest_first(found)]


def _milestones(call: Call, projects: list[Row], term: str) -> list[Row]:
    ids = {p["id"] for p in projects}
    found = [m for m in rows(call.world, "milestones") if m.get("project_id") in ids]
    return _newest_first([m for m in found if _has(term, m["title"], m.get("description"))])


def _snippets(call: Call, projects: list[Row], term: str) -> list[Row]:
    """Snippet titles (and file names) among the snippets the caller may see (SnippetsFinder)."""
    found = [s for s in rows(call.world, "snippets") if snippets.can_see(call.world, call.user_id, s)]
    found = [snippets.render(s) for s in found]
    return _newest_first([s for s in found if _has(term, s["title"], s["file_name"])])


def _users(world: World, user_ids: list[int], term: str) -> list[Row]:
    found = [world.users[u] for u in user_ids if u in world.users]
    found = [u for u in found if u["state"] == "active" and _has(term, u["username"], u["name"])]
    return [{k: u[k] for k in USER_FIELDS} for u in sorted(found, key=lambda u: u["id"])]


def _notes(call: Call, projects: list[Row], term: str) -> list[Row]:
    world, project = call.world, projects[0]
    level = world.access_level(call.user_id, project["id"])
    issues = {i["id"]: i for i in rows(world, "issues") if i["project_id"] == project["id"]}
    found = []
    for note in rows(world, "notes"):
        if note.get("project_id") != project["id"] or note.get("system") or not _has(term, note["body"]):
            continue
        if note.get("internal") and level < REPORTER:
            continue
        if note["noteable_type"] == "Issue":
            issue = issues.get(note["noteable_id"])
            if issue is None or not project.get("issues_enabled", True) or not can_see(world, call.user_id, issue):
                continue
        elif note["noteable_type"] == "MergeRequest" and not _can_read_mrs(world, call.user_id, project):
            continue
        found.append(note)
    return _newest_first(found)


def _code_ref(call: Call, project: Row) -> tuple[str, Row] | None:
    """The ref and commit searched, when the caller may read code (read_code: reporters on private)."""
    if project["visibility"] != "public" and call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return None  # Search::Navigation hides the tab: an empty result, not an error
    ref = call.arg("ref") or project["default_branch"]
    commit = repository.resolve(call.world, project, ref)
    return None if commit is None else (ref, commit)


def _commits(call: Call, projects: list[Row], term: str) -> list[Row]:
    project = projects[0]
    found = _code_ref(call, project)
    if found is None:
        return []
    history = repository.history(call.world, project["id"], found[1]["id"])
    hits = [c for c in history if _has(term, c["message"]) or (len(term) >= 7 and c["id"].startswith(term))]
    return [{**repository.public_commit(c), "project_id": project["id"]} for c in hits]


def _blobs(call: Call, projects: list[Row], term: str) -> list[Row]:
    project = projects[0]
    found = _code_ref(call, project)
    if found is None:
        return []
    files = repository.tree_at(call.world, project["id"], found[1]["id"])
    texts = {path: data.decode() for path, data in files.items() if b"\0" not in data}  # binaries: names only
    texts |= {path: "" for path in files if path not in texts}
    return [{**hit, "project_id": project["id"]} for hit in grep(texts, term, ref=found[0])]


def _wiki_blobs(call: Call, projects: list[Row], term: str) -> list[Row]:
    project = projects[0]  # readable, so a member or public: read_wiki unless the wiki is off
    if not project.get("wiki_enabled", True):
        return []
    pages = [p for p in rows(call.world, "wiki_pages") if p["container"] == "project"]
    pages = [p for p in pages if p["container_id"] == project["id"]]
    texts = {f"{p['slug']}.{WIKI_EXTENSIONS.get(p['format'], 'md')}": p["content"] for p in pages}
    return [{**hit, "project_id": project["id"], "group_id": None} for hit in grep(texts, term, ref="main")]


# --- code search ----------------------------------------------------------------------------------
def grep(texts: dict[str, str], query: str, *, ref: str) -> list[Row]:
    """Gitlab::FileFinder: `filename:`, `path:` and `extension:` filters, then files whose path
    matches the term, then one hit per file whose content matches (with CONTEXT lines around it)."""
    words, filters = [], []
    for word in query.split():
        key, _, value = word.partition(":")
        if value and key in ("filename", "path", "extension"):
            filters.append((key, value))
        else:
            words.append(word)
    term = " ".join(words).lower()
    paths = sorted(p for p in texts if all(_filter_ok(p, key, value) for key, value in filters))
    by_name = [p for p in paths if term and term in p.lower()]
    hits = [_blob(p, texts[p].split("\n")[: 1 + 2 * CONTEXT], 1, ref) for p in by_name]
    for path in paths:
        lines = texts[path].split("\n")
        match = next((n for n, line in enumerate(lines) if term in line.lower()), None)
        if match is not None and term:
            first = max(0, match - CONTEXT)
            hits.append(_blob(path, lines[first : match + CONTEXT + 1], first + 1, ref))
    return hits


def _filter_ok(path: str, key: str, value: str) -> bool:
    if key == "extension":
        return path.rsplit(".", 1)[-1] == value if "." in path else False
    subject = path.rsplit("/", 1)[-1] if key == "filename" else path
    return fnmatch.fnmatch(subject, value if "*" in value else f"*{value}*")


def _blob(path: str, lines: list[str], startline: int, ref: str) -> Row:
    """Entities::Blob (`filename` is the deprecated twin of `path`)."""
    basename = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    data = "\n".join(lines)
    return {
        "basename": basename,
        "data": data,
        "path": path,
        "filename": path,
        "id": None,
        "ref": ref,
        "startline": startline,
    }
