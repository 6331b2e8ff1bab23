"""The repository's seed: acme/app's branches, history and files (a 3,000-line changelog, a PNG, a
SQLite file), and the other projects' files."""

from __future__ import annotations

import hashlib

from tests.gitlab_sim.areas import lfs
from tests.gitlab_sim.areas.repository.model import commit_row
from tests.gitlab_sim.world import World

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
        row = commit_row(project, sha, world.users[user_id], when, message, [parent] if parent else [], list(changes))
        world.table("commits").append(row)
        trees[sha] = {**(trees[parent] if parent else {}), **changes}
        shas.append(sha)
        parent = sha
    return shas


def _branches(world: World, pid: int, heads: dict[str, str]) -> None:
    for name, head in heads.items():
        world.table("branches").append({"project_id": pid, "name": name, "head": head})
        world.files.setdefault(pid, {})[name] = dict(world.extra["trees"][head])
