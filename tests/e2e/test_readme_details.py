"""Small promises of the README: the configuration is one table, the commands that need the `.venv`
say where it comes from, and `./scripts/test` says what it installs and stops at once, before any
install or test, when PostgreSQL does not answer."""

from __future__ import annotations

import os
import re
import subprocess
import time

from tests.harness import ROOT, free_port

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    return README[start : README.index("\n## ", start + 1)]


def test_the_configuration_is_one_table():
    lines = section("Configuration").splitlines()
    rows = [n for n, line in enumerate(lines) if line.startswith("|")]
    assert rows == list(range(rows[0], rows[-1] + 1)), "a blank or other line splits the table"
    assert len(rows) > 30


def test_commands_run_from_the_venv_say_where_it_comes_from():
    try_it = section("Try it against the GitLab simulator")
    assert ".venv/bin/python -m tests.gitlab_sim" in try_it
    assert "./scripts/serve" in try_it.split(".venv/bin/python -m tests.gitlab_sim")[0]
    assert "python3 -m venv .venv" in try_it


def test_scripts_test_says_what_it_installs():
    header = (ROOT / "scripts" / "test").read_text().split("set -euo")[0]
    for package in ("chromium", "nginx", "nodejs", "npm", "PostgreSQL"):
        assert package in header
        assert package in README.split("## Connect your client")[0]


def test_scripts_test_stops_at_once_when_postgres_does_not_answer():
    url = f"postgres://postgres@127.0.0.1:{free_port()}/test"  # nothing listens there
    started = time.monotonic()
    done = subprocess.run(
        [str(ROOT / "scripts" / "test")],
        env={**os.environ, "TEST_POSTGRES_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert time.monotonic() - started < 20  # before installing anything or running the SQLite half
    assert re.search(rf"cannot use PostgreSQL at {re.escape(url)} \(TEST_POSTGRES_URL\)", done.stderr)
    assert "systemctl start postgresql" in done.stderr and "No test was run" in done.stderr
    assert "== tests" not in done.stdout and "installing" not in done.stdout
