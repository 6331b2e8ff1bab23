"""Real MCP clients against Daphne and the GitLab simulator, at /mcp and at / (tests/client_matrix.py).

Each cell signs bob in through the client's own OAuth handling and checks that a tool call acts as
bob. UPDATE_CLIENT_MATRIX=1 records the outcomes in tests/clients/matrix.json for the README
(`.venv/bin/python -m tests.client_matrix`); without it nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests import http_client, real_clients
from tests.client_matrix import PATHS, README, ROWS, WORKS, load_results, outcome, readme_with_matrix, save_results
from tests.harness import Server
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser

USER = "bob"


@pytest.fixture(scope="module")
def matrix() -> Iterator[dict[str, dict[str, str]]]:
    results = load_results()
    yield results
    if os.environ.get("UPDATE_CLIENT_MATRIX"):
        save_results(results)


@pytest.fixture
def oauth_server(start_server: Any, sim: Any) -> Server:
    return start_server(**OAUTH_ENV)


@contextmanager
def cell(matrix: dict[str, dict[str, str]], key: str, path: str) -> Iterator[None]:
    """Record how the client did at this path (the README shows it); a failure fails the test."""
    row = next(row for row in ROWS if row.key == key)
    matrix[key] = {"version": row.version, **{p: v for p, v in matrix.get(key, {}).items() if p in PATHS}}
    try:
        yield
    except Exception as error:
        matrix[key][path] = outcome(error)
        raise
    matrix[key][path] = WORKS


def acted_as_bob(seen: dict[str, Any]) -> None:
    assert seen["me"]["username"] == USER, seen
    assert seen["tools"] > 0


def test_the_readme_client_matrix_is_current():
    results = load_results()
    refresh = "UPDATE_CLIENT_MATRIX=1 .venv/bin/pytest tests/e2e/test_client_matrix.py && python -m tests.client_matrix"
    for row in ROWS:
        assert row.key in results and all(path in results[row.key] for path in PATHS), f"{row.key} not run: {refresh}"
        assert results[row.key]["version"] == row.version, f"{row.key} is pinned at {row.version}: {refresh}"
    assert set(results) == {row.key for row in ROWS}, f"clients no longer declared: {refresh}"
    readme = README.read_text()
    assert readme_with_matrix(readme, results) == readme, f"README client matrix is stale: {refresh}"


def test_the_npm_clients_are_pinned_exactly():
    import json
    import re

    declared = json.loads((real_clients.CLIENTS / "package.json").read_text())
    pins = {**declared["dependencies"], **declared["optionalDependencies"]}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", pin) for pin in pins.values()), pins
    locked = json.loads((real_clients.CLIENTS / "package-lock.json").read_text())["packages"]
    installed = {name: locked[f"node_modules/{name}"]["version"] for name in pins}
    assert installed == pins, "the lockfile is stale: run npm install in tests/clients"


@pytest.mark.parametrize("protocol", ["default", "auto"])
@pytest.mark.parametrize("path", PATHS)
def test_mcp_remote(matrix, oauth_server: Server, path: str, protocol: str, tmp_path: Path):
    flags = ["--protocol", "auto"] if protocol == "auto" else []
    with cell(matrix, "mcp-remote" if protocol == "default" else "mcp-remote-auto", path):
        seen = real_clients.mcp_remote(oauth_server.url + path, USER, tmp_path, *flags)
        acted_as_bob(seen)
        assert ("speaks MCP 2026-07-28" in seen["stderr"]) == bool(flags), seen["stderr"][-500:]


@pytest.mark.parametrize("path", PATHS)
def test_typescript_sdk_signs_in_calls_and_refreshes(matrix, oauth_server: Server, path: str):
    with cell(matrix, "typescript-sdk", path):
        seen = real_clients.typescript_sdk(oauth_server.url + path, USER)
        acted_as_bob(seen)
        assert seen["refreshed"] and seen["tokenSaves"] == 2, seen  # the 401 made it use its refresh token
        assert seen["meAfterRefresh"]["username"] == USER


@pytest.mark.parametrize("era", ["legacy", "modern"])
@pytest.mark.parametrize("path", PATHS)
def test_inspector_cli_with_a_bearer_token(matrix, oauth_server: Server, path: str, era: str, tmp_path: Path):
    url = oauth_server.url + path
    with cell(matrix, f"inspector-{era}", path):
        try:  # its bearer token, signed in for this URL the way the spec's clients do it
            token = http_client.sign_in(url, Browser(USER), client_name="MCP Inspector", redirect_uri=CLIENT_REDIRECT)
        except http_client.SignInFailed as failure:
            raise real_clients.ClientFailed(f"getting its token: {failure}") from None
        acted_as_bob(real_clients.inspector(url, token["access_token"], era, tmp_path))


@pytest.mark.parametrize("mode", ["modern", "legacy"])
@pytest.mark.parametrize("path", PATHS)
async def test_python_sdk_in_both_protocol_eras(matrix, oauth_server: Server, path: str, mode: str):
    with cell(matrix, f"python-sdk-{mode}", path):
        seen = await real_clients.python_sdk(oauth_server.url, path, USER, "auto" if mode == "modern" else "legacy")
        acted_as_bob(seen)
        assert (seen["protocol"] >= "2026") == (mode == "modern"), seen


@pytest.mark.parametrize("path", PATHS)
def test_claude_ai_conventions(matrix, oauth_server: Server, path: str):
    with cell(matrix, "claude-ai", path):
        seen = http_client.claude_ai(oauth_server.url + path, USER)
        acted_as_bob(seen)
        assert seen["meAfterRefresh"]["username"] == USER
