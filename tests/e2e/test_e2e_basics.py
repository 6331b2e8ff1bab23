"""The walking skeleton end to end: Daphne, the MCP SDK client, the simulator."""

from __future__ import annotations

import json

import httpx

from tests.harness import Server, Sim


async def test_it_lists_the_tools_with_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    assert "get_current_user" in tools and "get_project" in tools
    assert tools["get_project"].annotations.read_only_hint is True
    assert tools["get_project"].input_schema["required"] == ["project"]


async def test_it_calls_a_tool_as_the_token_user(mcp, sim: Sim):
    result = await mcp.call("get_current_user")
    assert not result.is_error
    assert result.structured_content["username"] == "alice"
    sent = [r for r in sim.requests() if r["path"] == "/api/v4/user"]
    assert sent[-1]["private_token"] == "glpat-alice-0000000000000000"


async def test_the_text_content_is_the_structured_content_as_compact_json(mcp, text_of):
    result = await mcp.call("get_project", project="acme/app")
    assert json.loads(text_of(result)) == result.structured_content
    assert ", " not in text_of(result).replace('", "', "") and "\n" not in text_of(result)


async def test_an_unknown_tool_is_a_tool_error(mcp, text_of):
    result = await mcp.call("no_such_tool")
    assert result.is_error
    assert "no_such_tool" in text_of(result)


def test_health_is_liveness_and_ready_checks_the_database(server: Server):
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    response = httpx.get(f"{server.url}/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok"}


def test_a_malformed_json_rpc_body_gets_a_json_rpc_error(server: Server):
    response = httpx.post(
        server.mcp_url,
        content=b"{not json",
        headers={"content-type": "application/json", "accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


def test_ready_is_503_when_the_database_is_unreachable_and_health_stays_200(start_server, tmp_path):
    server = start_server(DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    response = httpx.get(f"{server.url}/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert httpx.get(f"{server.url}/health").status_code == 200  # liveness: no restart for a DB outage


def test_admin_static_files_are_served(server: Server):
    response = httpx.get(f"{server.url}/static/admin/css/base.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


async def test_both_protocol_eras_are_served(server: Server, sim: Sim):
    from mcp import Client

    async with Client(server.mcp_url, mode="legacy") as legacy:  # initialize handshake (2025-xx clients)
        assert legacy.protocol_version in ("2025-11-25", "2025-06-18")
        legacy_result = await legacy.call_tool("get_current_user", {})
    async with Client(server.mcp_url) as modern:  # server/discover, sessionless (2026-07-28)
        assert modern.protocol_version >= "2026"
        modern_result = await modern.call_tool("get_current_user", {})
    assert legacy_result.structured_content == modern_result.structured_content


async def test_sigterm_stops_the_mcp_session_manager_cleanly(database_url: str, sim: Sim, tmp_path):
    from tests.harness import MCP, run_server, server_env

    log = tmp_path / "daphne.log"
    with run_server(server_env(database_url, sim), log_path=log) as server:
        assert not (await MCP(server.mcp_url).call("get_current_user")).is_error
    output = log.read_text()
    assert server.process.returncode == 0
    assert "MCP session manager stopped" in output
    assert "Traceback" not in output
