"""Bad input and a misbehaving GitLab: clear tool errors, and the server keeps serving."""

from __future__ import annotations

import httpx

from tests.conftest import MCP
from tests.harness import Server, Sim, free_port

MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


async def test_a_429_with_retry_after_is_retried_and_succeeds(mcp, sim: Sim):
    sim.fault("^/api/v4/user$", status=429, retry_after=1, times=1)
    result = await mcp.call("get_current_user")
    assert not result.is_error
    assert [r["path"] for r in sim.requests()].count("/api/v4/user") == 2


async def test_rate_limiting_that_persists_is_a_readable_error(mcp, sim: Sim, text_of):
    sim.fault("^/api/v4/user$", status=429, retry_after=0)
    result = await mcp.call("get_current_user")
    assert result.is_error
    assert "GitLab is rate-limiting; retried 2 times" in text_of(result)


async def test_a_gitlab_500_is_a_readable_error_and_the_next_call_works(mcp, sim: Sim, text_of):
    sim.fault("^/api/v4/projects/acme%2Fapp$", status=500, times=1)
    result = await mcp.call("get_project", project="acme/app")
    assert result.is_error
    assert "GitLab failed with HTTP 500 while handling Project acme/app" in text_of(result)
    assert "Traceback" not in text_of(result)
    again = await mcp.call("get_project", project="acme/app")
    assert not again.is_error


async def test_a_slow_gitlab_times_out_with_a_readable_error(start_server, sim: Sim, text_of):
    server = start_server(GITLAB_TIMEOUT="1", GITLAB_MAX_RETRIES="0")
    sim.fault("^/api/v4/user$", delay=3, times=1)
    result = await MCP(server.mcp_url).call("get_current_user")
    assert result.is_error
    assert "GitLab did not answer in time" in text_of(result)


async def test_a_gitlab_that_is_down_is_a_readable_error(start_server, sim: Sim, text_of):
    server = start_server(GITLAB_API_URL=f"http://127.0.0.1:{free_port()}", GITLAB_MAX_RETRIES="0")
    result = await MCP(server.mcp_url).call("get_current_user")
    assert result.is_error
    assert "Could not connect to GitLab" in text_of(result)
    assert httpx.get(f"{server.url}/health").status_code == 200


async def test_wrong_argument_types_are_a_tool_error(mcp, text_of):
    result = await mcp.call("get_project", project=["not", "a", "string"])
    assert result.is_error


def test_the_root_url_answers_mcp_posts(server: Server, sim: Sim):
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    response = httpx.post(f"{server.url}/", json=body, headers=MCP_HEADERS)
    assert response.status_code == 200
    assert response.json()["result"]["serverInfo"]["name"] == "gitlab-mcp"


def test_an_unexpected_host_header_is_refused(server: Server):
    # DNS-rebinding guard: only configured hosts may address the MCP endpoint.
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    response = httpx.post(server.mcp_url, json=body, headers={**MCP_HEADERS, "host": "evil.example"})
    assert response.status_code == 421


def test_a_foreign_origin_is_refused(server: Server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    response = httpx.post(server.mcp_url, json=body, headers={**MCP_HEADERS, "origin": "https://evil.example"})
    assert response.status_code == 403
