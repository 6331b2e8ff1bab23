"""Browser-based MCP clients at / and /mcp: CORS preflights and headers, and the Origin check
(DNS-rebinding guard) that a valid bearer token passes in OAuth mode and nothing passes in static mode."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_oauth_audience import call
from tests.e2e.test_oauth_security import redeem, sign_in
from tests.harness import Sim, server_rows
from tests.oauth_client import OAUTH_ENV

BROWSER_APP = "https://claude.ai"


@pytest.fixture
def oauth_server(start_server):
    return start_server(**OAUTH_ENV)


@pytest.fixture
def static_server(start_server):
    return start_server(ALLOWED_ORIGINS="https://inspector.example,http://localhost:6274")


def access_token(server) -> str:
    client, verifier, params = sign_in(server)
    return str(redeem(server, client["client_id"], params["code"], verifier).json()["access_token"])


def preflight(server, path: str, method: str = "POST", origin: str = BROWSER_APP) -> httpx.Response:
    headers = {
        "origin": origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization, content-type, mcp-protocol-version",
    }
    return httpx.options(f"{server.url}{path}", headers=headers)


@pytest.mark.parametrize("path", ["/", "/mcp"])
def test_oauth_a_valid_token_from_a_browser_origin_is_served_with_cors_headers(oauth_server, sim: Sim, path):
    response = call(oauth_server, path, access_token(oauth_server), origin=BROWSER_APP)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["structuredContent"]["username"] == "alice"
    assert response.headers["access-control-allow-origin"] == BROWSER_APP
    assert "Origin" in response.headers["vary"]
    assert "WWW-Authenticate" in response.headers["access-control-expose-headers"]


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_oauth_without_a_valid_token_a_browser_origin_gets_the_readable_401_and_nothing_runs(
    oauth_server, sim: Sim, token
):
    response = call(oauth_server, "/mcp", token, origin="https://evil.example")
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "https://evil.example"  # so a client can sign in
    assert "resource_metadata=" in response.headers["www-authenticate"]
    assert not [r for r in sim.requests() if r["path"].startswith("/api/v4/")]


@pytest.mark.parametrize("path", ["/", "/mcp"])
def test_static_mode_refuses_a_foreign_origin(static_server, sim: Sim, path):
    response = call(static_server, path, origin="https://evil.example")
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert not [r for r in sim.requests() if r["path"].startswith("/api/v4/")]


@pytest.mark.parametrize("origin", ["https://inspector.example", "http://localhost:6274"])
def test_static_mode_serves_the_allowed_origins(static_server, sim: Sim, origin):
    response = call(static_server, "/mcp", origin=origin)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("path", ["/", "/mcp"])
def test_preflights_are_answered_without_authentication(oauth_server, path):
    response = preflight(oauth_server, path)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == BROWSER_APP
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST", "DELETE", "OPTIONS"}
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert allowed == {"authorization", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"}
    assert {"WWW-Authenticate", "Mcp-Session-Id"} <= {
        h.strip() for h in response.headers["access-control-expose-headers"].split(",")
    }


def test_a_preflight_for_a_method_we_do_not_serve_is_405_and_writes_nothing(oauth_server):
    count = "SELECT COUNT(*) FROM oauth_gateway_auditevent"
    before = server_rows(oauth_server.env["DATABASE_URL"], count)
    response = preflight(oauth_server, "/mcp", method="PUT")
    assert response.status_code == 405
    assert "PUT" not in response.headers["allow"] and "access-control-allow-origin" not in response.headers
    assert server_rows(oauth_server.env["DATABASE_URL"], count) == before


def test_static_mode_preflights_name_only_the_allowed_origins(static_server):
    assert preflight(static_server, "/", origin="https://inspector.example").status_code == 204
    refused = preflight(static_server, "/", origin="https://evil.example")
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
