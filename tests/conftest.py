"""Shared fixtures. The tool tests' MCP server and GitLab simulator run in this process
(tests/inprocess.py), so a breakpoint in a tool fires; tests/e2e/conftest.py gives the same names
(`sim`, `mcp`, `mcp_as`) to real processes for the end-to-end tests.

The cast (see tests/gitlab_sim/seed.py): alice and bob share the private project acme/app; bob also
owns bob/secret, which alice cannot see; charlie belongs to no project. `mcp` acts as alice. The
same people as database rows (users with their GitLab identity), a public and a confidential OAuth
client: the fixtures alice, bob, charlie, public_client, confidential_client (tests/cast.py, which
also has connection_for(user, client, ...)).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.cast import GITLAB_IDS, make_confidential_client, make_public_client, make_user
from tests.gitlab_sim.seed import TOKENS
from tests.inprocess import MCP, Sim, gitlab_client

# The servers and commands the tests start read no developer's ./.env (config.settings): only what
# each test gives them.
os.environ.setdefault("ENV_FILE", os.devnull)


@pytest.fixture(scope="session")
def sim_in_process() -> Iterator[Sim]:
    sim = Sim()
    yield sim
    sim.http.close()


@pytest.fixture
def sim(sim_in_process: Sim) -> Sim:
    """The simulator, reset to its seed for this test."""
    sim_in_process.reset()
    return sim_in_process


@pytest.fixture
def gitlab(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The GitLab client every tool uses during this test: the simulator, in process."""
    return gitlab_client(sim, monkeypatch)


@pytest.fixture
def mcp(gitlab: Any) -> MCP:
    """An MCP client of an in-process server acting as alice, with the simulator freshly reset."""
    return MCP(gitlab, TOKENS["alice"], {})


@pytest.fixture
def mcp_as(gitlab: Any) -> Callable[[str], MCP]:
    """An MCP client acting as another user of the cast: mcp_as("bob")."""

    def as_user(username: str) -> MCP:
        return MCP(gitlab, TOKENS[username], {})

    return as_user


@pytest.fixture
def mcp_with(gitlab: Any) -> Callable[..., MCP]:
    """An MCP client of a server built for other settings or another GitLab token:
    mcp_with(GITLAB_READ_ONLY_MODE=True), mcp_with(token="glpat-revoked-...")."""

    def make(*, token: str = TOKENS["alice"], **settings: Any) -> MCP:
        return MCP(gitlab, token, settings)

    return make


@pytest.fixture
def tokens() -> dict[str, str]:
    return dict(TOKENS)


def result_text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


@pytest.fixture
def text_of() -> Any:
    return result_text


# --- the cast as database rows (tests/cast.py) ---------------------------------------------------
@pytest.fixture
def alice(db: Any) -> Any:
    return make_user("alice", GITLAB_IDS["alice"])


@pytest.fixture
def bob(db: Any) -> Any:
    return make_user("bob", GITLAB_IDS["bob"])


@pytest.fixture
def charlie(db: Any) -> Any:
    return make_user("charlie", GITLAB_IDS["charlie"])


@pytest.fixture
def public_client(db: Any) -> Any:
    """Claude Code, registered through dynamic client registration: public, redirect to loopback."""
    return make_public_client()


@pytest.fixture
def confidential_client(db: Any) -> Any:
    """Cursor, a client ID metadata document client: confidential, its secret stored as given."""
    return make_confidential_client()
