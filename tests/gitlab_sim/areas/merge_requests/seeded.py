"""The merge requests area's seed: acme/app !1-!6, acme/website !1, bob/secret !1, their diffs and
commits."""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.areas.merge_requests.reading import find_merge_request
from tests.gitlab_sim.areas.merge_requests.states import DRAFT, merge_request_row, mr_commits, record_commits, refresh
from tests.gitlab_sim.areas.repository import (
    find_branch,
)
from tests.gitlab_sim.world import World

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


def seed(world: World) -> None:
    """acme/app (101): six MRs (!3 changes 45 files, !4 has a huge diff); acme/website: one; bob/secret: one."""
    for spec in MERGE_REQUESTS:
        world.table("merge_requests").append(merge_request_row(world, *spec))
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
        record_commits(world, mr, mr_commits(world, mr))
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
    record_commits(world, mr, [made_up])


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
