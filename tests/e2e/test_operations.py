"""Running the server in production: graceful stop, client addresses behind a proxy, JSON logs."""

from __future__ import annotations

import json
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import Server, Sim, run_server, server_env, server_rows, wait_for
from tests.oauth_client import OAUTH_ENV, Browser, MemoryStorage, oauth_mcp, structured

MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}


def call_tool(url: str, tool: str, headers: dict[str, str] | None = None, **arguments: Any) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    return httpx.post(f"{url}/mcp", json=body, headers={**MCP_HEADERS, **(headers or {})}, timeout=60)


def refuses_connections(server: Server) -> bool:
    try:
        httpx.get(f"{server.url}/health", timeout=2)
    except httpx.ConnectError:
        return True
    return False


def gitlab_saw(sim: Sim, path: str) -> bool:
    return any(r["path"] == path for r in sim.requests())


# --- graceful stop ------------------------------------------------------------------------------


def test_sigterm_stops_accepting_and_lets_the_call_in_flight_finish(database_url, sim: Sim, tmp_path: Path):
    with run_server(server_env(database_url, sim), log_path=tmp_path / "server.log") as server:
        sim.fault(r"^/api/v4/user$", delay=2, times=1)  # GitLab is slow on this one call
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(call_tool, server.url, "get_current_user")
            wait_for(lambda: gitlab_saw(sim, "/api/v4/user"))
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: refuses_connections(server))  # new requests go elsewhere at once
            response = in_flight.result(timeout=60)
        assert response.status_code == 200
        assert response.json()["result"]["structuredContent"]["username"] == "alice"
        assert server.process.wait(30) == 0
    log = (tmp_path / "server.log").read_text()
    assert "finishing 1 request(s) in flight" in log
    assert "cancelling" not in log


def test_a_connection_accepted_before_sigterm_still_gets_its_answer(database_url, sim: Sim, tmp_path: Path):
    """A proxy that connected just before the signal sends its request a moment later: it is served
    (closing the socket instead would reset a request nginx cannot resend). Here the request is
    /ready, which says the replica is on its way out."""
    with run_server(server_env(database_url, sim), log_path=tmp_path / "server.log") as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: refuses_connections(server))
            connection.sendall(b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert answer.endswith(b'{"status": "stopping"}'), answer[-200:]
        assert server.process.wait(30) == 0


def test_shutdown_timeout_bounds_the_wait_and_a_second_signal_stops_at_once(database_url, sim: Sim, tmp_path: Path):
    env = server_env(database_url, sim, SHUTDOWN_TIMEOUT="1")
    with run_server(env, log_path=tmp_path / "bounded.log") as server:
        sim.fault(r"^/api/v4/user$", delay=30, times=1)
        with ThreadPoolExecutor(1) as pool:
            stuck = pool.submit(call_tool, server.url, "get_current_user")
            wait_for(lambda: gitlab_saw(sim, "/api/v4/user"))
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(20) == 0  # after SHUTDOWN_TIMEOUT, not after GitLab's 30 s
            with pytest.raises(httpx.HTTPError):
                stuck.result(timeout=30).raise_for_status()
    assert "SHUTDOWN_TIMEOUT reached: cancelling 1 request(s)" in (tmp_path / "bounded.log").read_text()

    sim.reset()
    with run_server(env, log_path=tmp_path / "twice.log") as server:
        sim.fault(r"^/api/v4/user$", delay=30, times=1)
        with ThreadPoolExecutor(1) as pool:
            stuck = pool.submit(call_tool, server.url, "get_current_user")
            wait_for(lambda: gitlab_saw(sim, "/api/v4/user"))
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: refuses_connections(server))
            server.process.send_signal(signal.SIGINT)
            assert server.process.wait(20) == 0
    assert "second stop signal: stopping now" in (tmp_path / "twice.log").read_text()


# --- client addresses behind a proxy ----------------------------------------------------------


def tool_call_ips(database_url: str, marker: str) -> list[str]:
    """The audited client address of the get_project calls for `marker` (a project path)."""
    rows = server_rows(
        database_url,
        f"SELECT ip FROM oauth_gateway_auditevent WHERE kind = 'tool.call' AND project = '{marker}' ORDER BY id",
    )
    return [str(row[0]) for row in rows]


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "expected"),
    [
        ("", "203.0.113.7", "127.0.0.1"),  # no proxy configured: the header is a client's claim, ignored
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),  # the peer is our proxy: believe what it adds
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the leftmost part came from the client
        ("127.0.0.0/8,10.0.0.0/8", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # two proxies in a row
        ("127.0.0.1", "not-an-address", "127.0.0.1"),  # garbage: keep what the proxy vouched for
    ],
)
def test_audited_client_address_follows_trusted_proxies_only(
    trusted: str, forwarded_for: str, expected: str, start_server: Any, database_url: str, sim: Sim
):
    server = start_server(TRUSTED_PROXIES=trusted)
    marker = "acme/app"
    before = len(tool_call_ips(database_url, marker))
    response = call_tool(server.url, "get_project", headers={"x-forwarded-for": forwarded_for}, project=marker)
    assert response.status_code == 200
    # The audit row is written just after the answer is sent.
    wait_for(lambda: len(tool_call_ips(database_url, marker)) > before)
    assert tool_call_ips(database_url, marker)[before:] == [expected]


def test_forwarded_proto_from_a_trusted_proxy_makes_django_see_https(start_server: Any, sim: Sim):
    """Behind TLS the browser pages are https for Django too (CSRF's strict Referer check applies)."""
    server = start_server(TRUSTED_PROXIES="127.0.0.1", PUBLIC_URL="https://mcp.example.com")
    page = httpx.post(
        f"{server.url}/admin/login/",
        headers={"x-forwarded-proto": "https", "host": "mcp.example.com"},
        data={"username": "x", "password": "y"},
    )
    # An https POST without a Referer fails Django's https-only Referer check: proof that the scheme
    # came from the proxy. (Over plain http the failure would name the missing CSRF cookie instead.)
    assert page.status_code == 403
    assert server.log_path is not None
    wait_for(lambda: "Referer checking failed" in server.log_path.read_text())  # type: ignore[union-attr]


# --- JSON logs ----------------------------------------------------------------------------------


async def test_json_logs_name_user_client_and_tools_on_mcp_lines_and_never_a_token(
    database_url, sim: Sim, tmp_path: Path
):
    log_path = tmp_path / "json.log"
    env = server_env(database_url, sim, **OAUTH_ENV, LOG_FORMAT="json")
    with run_server(env, log_path=log_path) as server:
        storage = MemoryStorage()
        async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
            assert structured(await client.call_tool("get_current_user", {}))["username"] == "alice"
        assert httpx.get(f"{server.url}/health").status_code == httpx.get(f"{server.url}/ready").status_code == 200
    assert storage.tokens and storage.client
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert lines and len(lines) == len([line for line in log_path.read_text().splitlines() if line.strip()])
    calls = [e for e in lines if e["logger"] == "gitlab_mcp.access" and e.get("tools") == ["get_current_user"]]
    assert len(calls) == 1
    entry = calls[0]
    assert entry["user"] == "alice" and entry["client"] == storage.client.client_id
    assert entry["method"] == "POST" and entry["path"] == "/mcp" and entry["status"] == 200
    assert {"time", "level", "message", "client_ip", "duration_ms"} <= set(entry)
    paths = [e.get("path") for e in lines if e["logger"] == "gitlab_mcp.access"]
    assert "/ready" in paths and "/health" not in paths  # probes every few seconds stay out of the log
    text = log_path.read_text()
    secrets = [storage.tokens.access_token, storage.tokens.refresh_token or "", OAUTH_ENV["OAUTH_SESSION_SECRET"]]
    secrets += [r["authorization"].split()[-1] for r in sim.requests() if r.get("authorization")]
    assert all(secret and secret not in text for secret in secrets)
