"""The MCP server and the GitLab simulator inside the test process, for the tool tests.

The tools run in the test's own process and event loop, so a breakpoint in a tool fires: the SDK's
in-memory client talks to `mcp_bridge.server.build_server()` directly (no HTTP, no Daphne), and the
tools' GitLab client reaches the simulator (tests/gitlab_sim) through `httpx.ASGITransport`.

This is the one module of the test side that imports mcp_bridge's internals for that wiring (the
credentials of the calling user, the shared GitLab client): when they move, only this file changes.
End-to-end tests (tests/e2e/) run both as real processes instead (tests/harness.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from django.test import override_settings
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, Tool
from starlette.testclient import TestClient

from mcp_bridge import context, gitlab
from mcp_bridge.gitlab import Credentials, GitLabClient
from mcp_bridge.server import build_server
from tests.gitlab_sim import areas
from tests.gitlab_sim.app import Simulator

GITLAB_URL = "http://gitlab.test"  # never resolved: every request goes to the ASGI app
# What the end-to-end servers run with (tests/harness.py server_env): every tool, two retries.
SETTINGS: dict[str, Any] = {"GITLAB_TOOLSETS": ["all"], "GITLAB_MAX_RETRIES": 2}


class Sim:
    """The simulator as an object of this process, with the control hooks of harness.Sim.

    `http` is a synchronous httpx client for the tests' own requests to it (a Starlette TestClient,
    which runs the app on a thread of its own and routes every URL, `url` included, to it).
    httpx.ASGITransport enforces no timeouts: a fault's `delay` is waited out in full, so GitLab
    timing out is left to the end-to-end tests."""

    url = GITLAB_URL

    def __init__(self) -> None:
        self.app = Simulator()
        self.http = TestClient(self.app, base_url=GITLAB_URL, raise_server_exceptions=True)

    def reset(self) -> None:
        self.app.reset()

    def fault(self, path: str, **spec: Any) -> None:
        """Inject a fault on requests whose raw path matches `path` (a regex): status, retry_after,
        delay (s), times (how many requests), method, body."""
        self.app.faults.append(_copy({"path": path, **spec}))

    def set_version(self, version: str) -> None:
        """Pretend to be this GitLab version (e.g. "17.10") until the next reset."""
        areas.instance.set_version(self.app.world, version)

    def merge_check(self, project_id: int, iid: int, status: str, *, failing: bool = True) -> None:
        """Make a merge request fail (or pass) the merge check reported as detailed_merge_status=`status`."""
        areas.merge_checks.set_check(self.app.world, project_id=project_id, iid=iid, status=status, failing=failing)

    def run_pipeline(self, pipeline_id: int, *, step: float, fail: list[str] | None = None) -> None:
        """Start a runner on a pipeline: every `step` seconds its next job moves on; `fail` names jobs to fail."""
        areas.ci.start_runner(self.app.world, pipeline_id=pipeline_id, step=step, fail=fail or [])

    def requests(self) -> list[dict[str, Any]]:
        return list(_copy(self.app.requests))


def _copy(value: Any) -> Any:
    """What the simulator would have sent or received as JSON (no shared mutable state)."""
    return json.loads(json.dumps(value))


class MCP:
    """The official MCP SDK client, in process, against a server built for `settings`, acting with
    `token` as GitLab credentials (static-token mode, like the end-to-end servers). Each call opens
    its own session, as harness-backed clients do."""

    def __init__(self, client: GitLabClient, token: str, settings: dict[str, Any]) -> None:
        self.gitlab = client
        self.token = token
        self.settings = {**SETTINGS, **settings}

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Client]:
        """An MCP session; the tools it runs see this client's token and settings."""
        with _settings(self.settings):
            server = server_for(self.settings)
            # The SDK runs each tool in a task of this session, which inherits this context.
            token = context.current_credentials.set(Credentials(self.token))
            try:
                async with Client(server, raise_exceptions=False) as client:
                    yield client
            finally:
                context.current_credentials.reset(token)

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        async with self.connect() as client:
            return await client.call_tool(tool, arguments)

    async def list_tools(self) -> list[Tool]:
        async with self.connect() as client:
            return (await client.list_tools()).tools


class _Overridden:
    """The settings in force while sessions are open: Django's settings are process-wide, so sessions
    that overlap in time (asyncio.gather) share one override, entered by the first and left by the
    last; a client with other settings cannot open a session meanwhile (RuntimeError)."""

    values: dict[str, Any] | None = None
    override: override_settings | None = None
    sessions = 0


@contextmanager
def _settings(values: dict[str, Any]) -> Iterator[None]:
    if _Overridden.sessions and _Overridden.values != values:
        raise RuntimeError("in-process MCP clients with different settings cannot have sessions open at once")
    if not _Overridden.sessions:
        _Overridden.values, _Overridden.override = values, override_settings(**values)
        _Overridden.override.enable()
    _Overridden.sessions += 1
    try:
        yield
    finally:
        _Overridden.sessions -= 1
        if not _Overridden.sessions and _Overridden.override is not None:
            _Overridden.override.disable()
            _Overridden.values = _Overridden.override = None


_servers: dict[str, MCPServer] = {}


def server_for(settings: dict[str, Any]) -> MCPServer:
    """The server build_server() makes under `settings` (active), built once per configuration."""
    key = json.dumps(settings, sort_keys=True)
    if key not in _servers:
        _servers[key] = build_server()
    return _servers[key]


def gitlab_client(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> GitLabClient:
    """The tools' shared GitLab client for this test: the simulator's ASGI app as transport."""
    client = GitLabClient(
        f"{GITLAB_URL}/api/v4", max_retries=SETTINGS["GITLAB_MAX_RETRIES"], transport=httpx.ASGITransport(sim.app)
    )
    monkeypatch.setattr(gitlab, "gitlab_client", lambda: client)
    return client
