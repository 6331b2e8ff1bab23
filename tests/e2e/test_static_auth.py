"""Static-token mode is never an open proxy for the server's GITLAB_TOKEN: off loopback it needs
MCP_AUTH_TOKEN (RFC 6750 bearer), and /mcp answers only the hosts it is published under."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from config.startup import daphne_argv
from tests.harness import ROOT, Server, Sim, free_port, server_env, stop, wait_http

TOKEN = "team-pilot-token-0123456789abcdef"
OTHER = "second-token-for-the-ci-0123456789"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}


def post(url: str, token: str | None = None, **headers: str) -> httpx.Response:
    auth = {"authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(url, json=PING, headers={**MCP_HEADERS, **auth, **headers}, timeout=30)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "PUBLIC_URL", "HOST"))}
    base = {"GITLAB_TOKEN": "glpat-x", "GITLAB_API_URL": "https://gitlab.example.com"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={k: v for k, v in (clean | base | env).items() if v != ""},
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextmanager
def listening_everywhere(env: dict[str, str]) -> Iterator[Server]:
    """Daphne bound to 0.0.0.0 (as in a container), published as http://mcp.test:<port>."""
    port = free_port()
    env = {**env, "HOST": "0.0.0.0", "PORT": str(port), "PUBLIC_URL": f"http://mcp.test:{port}"}
    process = subprocess.Popen(daphne_argv("0.0.0.0", port), cwd=ROOT, env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", process)
        yield Server(f"http://127.0.0.1:{port}", process, env)
    finally:
        stop(process)


def test_off_loopback_static_mode_without_mcp_auth_token_refuses_to_start():
    done = manage("check", HOST="0.0.0.0", PUBLIC_URL="https://mcp.example.com")
    assert done.returncode != 0
    assert "MCP_AUTH_TOKEN" in done.stderr and "HOST" in done.stderr
    served = manage("serve", "--no-migrate", HOST="0.0.0.0", PUBLIC_URL="https://mcp.example.com")
    assert served.returncode != 0 and "MCP_AUTH_TOKEN" in served.stderr


def test_off_loopback_static_mode_with_mcp_auth_token_starts():
    done = manage("check", HOST="0.0.0.0", PUBLIC_URL="https://mcp.example.com", MCP_AUTH_TOKEN=TOKEN)
    assert done.returncode == 0, done.stderr


def test_a_short_mcp_auth_token_is_refused():
    done = manage("check", MCP_AUTH_TOKEN="secret")
    assert done.returncode != 0 and "MCP_AUTH_TOKEN" in done.stderr and "python3 -c" in done.stderr


def test_on_loopback_without_mcp_auth_token_it_answers_as_before(server: Server):
    assert post(server.mcp_url).status_code == 200


def test_with_mcp_auth_token_on_loopback_the_bearer_is_required(start_server, sim: Sim):
    server = start_server(MCP_AUTH_TOKEN=f"{TOKEN}, {OTHER}")
    missing, wrong = post(server.mcp_url), post(server.mcp_url, "nope")
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert wrong.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert "resource_metadata" not in missing.headers["www-authenticate"] + wrong.headers["www-authenticate"]
    assert post(server.mcp_url, TOKEN).status_code == 200
    assert post(server.mcp_url, OTHER).status_code == 200  # one token per team or machine, comma-separated
    assert post(f"{server.url}/", TOKEN).status_code == 200 and post(f"{server.url}/").status_code == 401
    assert not [r for r in sim.requests() if r["path"].startswith("/api/v4/")]  # GitLab never asked


async def test_the_sdk_client_calls_tools_with_the_bearer(start_server, sim: Sim):
    server = start_server(MCP_AUTH_TOKEN=TOKEN)
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}, timeout=30) as http,
        Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
    ):
        me = await client.call_tool("get_current_user", {})
    assert me.structured_content["username"] == "alice"


def test_off_loopback_the_bearer_and_the_published_host_are_required(database_url: str, sim: Sim):
    with listening_everywhere(server_env(database_url, sim, MCP_AUTH_TOKEN=TOKEN)) as server:
        published = server.url.replace("127.0.0.1", "mcp.test").removeprefix("http://")
        assert post(server.mcp_url, host=published).status_code == 401
        assert post(server.mcp_url, TOKEN, host=published).status_code == 200
        # A forged Host naming the machine itself is not how this server is published: 421, whoever asks.
        for forged in ("localhost", f"localhost:{published.rsplit(':', 1)[1]}", "127.0.0.1", "evil.example"):
            assert post(server.mcp_url, TOKEN, host=forged).status_code == 421, forged
            assert post(server.mcp_url, host=forged).status_code == 421, forged
        assert httpx.get(f"{server.url}/health").status_code == 200  # the container's health check


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
async def test_stdio_is_unaffected(sim: Sim, database_url: str, host: str):
    env = server_env(database_url, sim, HOST=host)  # the database_url fixture migrated it
    params = StdioServerParameters(command=sys.executable, args=["manage.py", "mcp_stdio"], env=env, cwd=str(ROOT))
    async with Client(params) as client:
        result = await client.call_tool("get_current_user", {})
    assert result.structured_content["username"] == "alice"
