"""Start-up tells the truth: a port in use is a failure naming PORT, the GitLab token is tried once
and the result logged, OAuth mode says what to register in GitLab, and every hint names `python3`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.harness import ROOT, Sim, free_port, server_env, stop, wait_http
from tests.oauth_client import OAUTH_ENV


@contextmanager
def served(tmp_path: Path, database_url: str, sim: Sim, **overrides: str) -> Iterator[tuple[str, Path]]:
    """`manage.py serve --no-migrate` as an operator runs it: its URL and its log (stdout and stderr)."""
    port = free_port()
    env = server_env(database_url, sim, HOST="127.0.0.1", PORT=str(port), **overrides)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-migrate"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/health", process)
            yield f"http://127.0.0.1:{port}", log
        finally:
            stop(process)


def test_a_port_in_use_exits_non_zero_naming_port(database_url: str):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "PUBLIC_URL"))}
        env |= {"GITLAB_TOKEN": "glpat-x", "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port)}
        done = subprocess.run(
            [sys.executable, "manage.py", "serve", "--no-migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert done.returncode != 0
    assert f"127.0.0.1:{port}" in done.stderr and "PORT" in done.stderr and "in use" in done.stderr


def test_a_working_token_is_reported_with_the_gitlab_user(tmp_path: Path, database_url: str, sim: Sim):
    with served(tmp_path, database_url, sim) as (_, log):
        assert f"GitLab token OK: acting as alice on {sim.url}" in log.read_text()


def test_a_refused_token_is_a_warning_and_the_server_still_starts(tmp_path: Path, database_url: str, sim: Sim):
    with served(tmp_path, database_url, sim, GITLAB_TOKEN="glpat-revoked-000000000000") as (url, log):
        warning = [line for line in log.read_text().splitlines() if "GITLAB_TOKEN" in line and "WARNING" in line]
        assert warning and f"{sim.url}/api/v4/user" in warning[-1] and "401" in warning[-1]
        assert httpx.get(f"{url}/health").status_code == 200


def test_an_unreachable_gitlab_is_a_warning_and_the_server_still_starts(tmp_path: Path, database_url: str, sim: Sim):
    closed = f"http://127.0.0.1:{free_port()}"
    with served(tmp_path, database_url, sim, GITLAB_API_URL=closed) as (url, log):
        warning = [line for line in log.read_text().splitlines() if "could not reach GitLab" in line]
        assert warning and "WARNING" in warning[-1] and f"{closed}/api/v4/user" in warning[-1]
        assert httpx.get(f"{url}/health").status_code == 200


def test_oauth_mode_logs_the_callback_url_and_the_scopes_to_register(tmp_path: Path, database_url: str, sim: Sim):
    with served(tmp_path, database_url, sim, **OAUTH_ENV, GITLAB_OAUTH_SCOPES="read_api,read_user") as (url, log):
        text = log.read_text()
    assert f"redirect URI {url}/oauth/callback" in text and "scopes read_api, read_user" in text
    assert not [r for r in sim.requests() if r["path"] == "/api/v4/user"]  # no token to try


def test_every_hint_says_python3():
    sources = [*ROOT.joinpath("config").glob("*.py"), ROOT / "oauth_gateway" / "checks.py"]
    assert not [str(path) for path in sources if re.search(r"\bpython -c\b", path.read_text())]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "PUBLIC_URL", "HOST"))}
    env |= {"OAUTH_ENABLED": "true", "OAUTH_SESSION_SECRET": "short", "GITLAB_OAUTH_CLIENT_ID": "app"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "OAUTH_SESSION_SECRET" in done.stderr and "python3 -c" in done.stderr
