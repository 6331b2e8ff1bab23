"""Shared fixtures: the GitLab simulator and a Daphne server in front of it, both real processes.

The cast (see tests/gitlab_sim/seed.py): alice and bob share the private project acme/app; bob also
owns bob/secret, which alice cannot see. The default server acts as alice (GITLAB_TOKEN).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult, Tool

from tests.gitlab_sim.seed import TOKENS
from tests.harness import Server, Sim, migrate, run_server, run_sim, server_database, server_env

# The servers and commands the tests start read no developer's ./.env (config.settings): only what
# each test gives them.
os.environ.setdefault("ENV_FILE", os.devnull)


@pytest.fixture(scope="session")
def sim_process() -> Iterator[Sim]:
    with run_sim() as sim:
        yield sim


@pytest.fixture
def sim(sim_process: Sim) -> Sim:
    """The simulator, reset to its seed for this test."""
    sim_process.reset()
    return sim_process


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The servers' database for this test session, migrated."""
    with server_database(tmp_path_factory.mktemp("db")) as url:
        migrate({**os.environ, "DATABASE_URL": url, "GITLAB_TOKEN": "migrate-only"})
        yield url


@pytest.fixture(scope="session")
def start_server(database_url: str, sim_process: Sim, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Start a server with extra environment (e.g. GITLAB_READ_ONLY_MODE="true"); stopped at the end."""
    from contextlib import ExitStack

    stack = ExitStack()
    logs = tmp_path_factory.mktemp("logs")
    started: dict[tuple[tuple[str, str], ...], Server] = {}

    def start(**overrides: str) -> Server:
        key = tuple(sorted(overrides.items()))
        if key in started:  # one server per configuration is enough
            return started[key]
        env = server_env(database_url, sim_process, **overrides)
        started[key] = stack.enter_context(run_server(env, log_path=logs / f"daphne-{len(started)}.log"))
        return started[key]

    yield start
    stack.close()


@pytest.fixture(scope="session")
def server(start_server: Any) -> Server:
    """The default server: static-token mode, acting as alice."""
    return start_server()


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


@pytest.fixture
def mcp(server: Server, sim: Sim) -> MCP:
    """An MCP client for the default server (alice's token), with the simulator freshly reset."""
    return MCP(server.mcp_url)


@pytest.fixture
def mcp_as(start_server: Any, sim: Sim) -> Any:
    """An MCP client acting as another user of the cast: mcp_as("bob")."""

    def as_user(username: str) -> MCP:
        return MCP(start_server(GITLAB_TOKEN=TOKENS[username]).mcp_url)

    return as_user


@pytest.fixture
def tokens() -> dict[str, str]:
    return dict(TOKENS)


def result_text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


@pytest.fixture
def text_of() -> Any:
    return result_text


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's chromium under Playwright, one for the whole session (tests/browser.py)."""
    from tests.browser import Chromium

    browser = Chromium()
    yield browser
    browser.close()
