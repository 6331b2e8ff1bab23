"""Real processes for end-to-end tests and benchmarks: the GitLab simulator and Daphne.

Each runs as a subprocess on a free loopback port, as a user would run it. Used by conftest.py and
by bench/; nothing here is mocked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from mcp import Client
from mcp_types import CallToolResult, Tool

from config.startup import daphne_argv

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def wait_for(condition: Callable[[], T], what: str = "a condition", timeout: float = 30.0) -> T:
    """Poll `condition` until it returns something true (and return that), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return value


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Sim:
    """A running GitLab simulator and its control hooks (/_sim/*)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sim/reset").raise_for_status()

    def fault(self, path: str, **spec: Any) -> None:
        """Inject a fault on requests whose raw path matches `path` (a regex): status, retry_after,
        delay (s), times (how many requests), method, body."""
        httpx.post(f"{self.url}/_sim/faults", json={"path": path, **spec}).raise_for_status()

    def set_version(self, version: str) -> None:
        """Pretend to be this GitLab version (e.g. "17.10") until the next reset."""
        httpx.post(f"{self.url}/_sim/version", json={"version": version}).raise_for_status()

    def merge_check(self, project_id: int, iid: int, status: str, *, failing: bool = True) -> None:
        """Make a merge request fail (or pass) the merge check reported as detailed_merge_status=`status`."""
        spec = {"project_id": project_id, "iid": iid, "status": status, "failing": failing}
        httpx.post(f"{self.url}/_sim/merge_checks", json=spec).raise_for_status()

    def run_pipeline(self, pipeline_id: int, *, step: float, fail: list[str] | None = None) -> None:
        """Start a runner on a pipeline: every `step` seconds its next job moves on; `fail` names jobs to fail."""
        spec = {"pipeline_id": pipeline_id, "step": step, "fail": fail or []}
        httpx.post(f"{self.url}/_sim/runner", json=spec).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/_sim/requests").json())


@contextmanager
def run_sim() -> Iterator[Sim]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.gitlab_sim", "--port", str(port)], cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/_sim/requests", process)
        yield Sim(f"http://127.0.0.1:{port}")
    finally:
        stop(process)


@contextmanager
def server_database(tmp_dir: Path) -> Iterator[str]:
    """A fresh database for one server: a SQLite file, or a new PostgreSQL database when the
    suite runs on PostgreSQL (DATABASE_URL set to postgres://...)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_dir / f'server-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    import psycopg

    name = f"gitlab_mcp_e2e_{uuid.uuid4().hex[:10]}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    def __init__(
        self, url: str, process: subprocess.Popen[bytes], env: dict[str, str], log_path: Path | None = None
    ) -> None:
        self.url = url
        self.mcp_url = f"{url}/mcp"
        self.process = process
        self.env = env
        self.log_path = log_path


class MCP:
    """The official MCP SDK client against one server; each call opens its own connection
    (anyio cancel scopes cannot span pytest fixtures' setup and teardown)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        async with Client(self.url) as client:
            return await client.call_tool(tool, arguments)

    async def list_tools(self) -> list[Tool]:
        async with Client(self.url) as client:
            return (await client.list_tools()).tools


def server_env(database_url: str, sim: Sim, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_"))}
    env |= {
        "DATABASE_URL": database_url,
        "GITLAB_API_URL": sim.url,
        "GITLAB_TOKEN": "glpat-alice-0000000000000000",
        "GITLAB_MAX_RETRIES": "2",
        "GITLAB_TOOLSETS": "all",  # tests reach every tool; the default set is tested on its own
        "PYTHONUNBUFFERED": "1",
    }
    env |= overrides
    return {k: v for k, v in env.items() if v != ""}


def server_rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on a server's own database (SQLite file or PostgreSQL): what it stored, or a change a
    test needs (such as ageing a token)."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(sql).fetchall())
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
        cursor = conn.execute(sql)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


@contextmanager
def run_server(env: dict[str, str], *, log_path: Path | None = None, port: int | None = None) -> Iterator[Server]:
    """Daphne serving config.asgi, exactly as `manage.py serve` starts it."""
    port = port or free_port()
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1"}
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        daphne_argv("127.0.0.1", port),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log_path else None,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", process)
        yield Server(f"http://127.0.0.1:{port}", process, env, log_path)
    finally:
        stop(process)
        if log_path:
            log.close()  # type: ignore[union-attr]
