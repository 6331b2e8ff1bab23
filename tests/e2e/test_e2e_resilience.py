"""Bad input and a misbehaving GitLab: clear tool errors, and the server keeps serving."""

from __future__ import annotations

import httpx

from tests.harness import MCP, Server, Sim, free_port

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
    assert f"GitLab at {sim.url}/api/v4 did not answer in time" in text_of(result)


async def test_a_gitlab_that_is_down_is_a_readable_error(start_server, sim: Sim, text_of):
    down = f"http://127.0.0.1:{free_port()}"
    server = start_server(GITLAB_API_URL=down, GITLAB_MAX_RETRIES="0")
    result = await MCP(server.mcp_url).call("get_current_user")
    assert result.is_error
    assert f"Could not connect to GitLab at {down}/api/v4" in text_of(result)  # names the URL to check
    assert "GITLAB_API_URL" in text_of(result)
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


async def test_argument_errors_name_the_argument_and_what_is_expected(mcp, text_of):
    missing = await mcp.call("get_issue", project="acme/app", issue_iid=3)
    assert text_of(missing) == (
        "Invalid arguments for get_issue: 'iid' is required (The project-level number shown in GitLab "
        "(#12 or !12)); unknown argument 'issue_iid'; get_issue takes: project, iid."
    )
    too_big = await mcp.call("list_issues", project="acme/app", per_page=500)
    assert text_of(too_big) == (
        "Invalid arguments for list_issues: 'per_page': input should be less than or equal to 100 (got 500)."
    )
    assert "pydantic" not in text_of(missing) + text_of(too_big)


async def test_issue_search_hits_say_which_project(mcp):
    result = await mcp.call("search_project", project="acme/app", scope="issues", search="test")
    hits = result.structured_content["items"]
    assert hits and all(hit["reference"] == f"acme/app#{hit['iid']}" for hit in hits)
