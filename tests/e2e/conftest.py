"""End-to-end fixtures: the GitLab simulator and a Daphne server in front of it, both real processes
(tests/harness.py). They take the names of tests/conftest.py's in-process ones (`sim`, `mcp`,
`mcp_as`) for the tests of this directory.

The cast (see tests/gitlab_sim/seed.py): alice and bob share the private project acme/app; bob also
owns bob/secret, which alice cannot see. The default server acts as alice (GITLAB_TOKEN).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.gitlab_sim.seed import TOKENS
from tests.harness import MCP, Server, Sim, migrate, run_server, run_sim, server_database, server_env


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


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's chromium under Playwright, one for the whole session (tests/browser.py)."""
    from tests.browser import Chromium

    browser = Chromium()
    yield browser
    browser.close()
