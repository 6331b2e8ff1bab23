"""Registration (RFC 7591) and its management (RFC 7592) under attack: what the security test found.

The limits are per client address; behind TRUSTED_PROXIES each test gets an address of its own
(X-Forwarded-For), so counts left by other tests in the shared database do not matter.
"""

from __future__ import annotations

import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.test_oauth_security import authorize_url, pkce, redeem
from tests.harness import Sim, server_rows
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser, mcp_status

LIMITED = {**OAUTH_ENV, "TRUSTED_PROXIES": "127.0.0.1", "OAUTH_REGISTRATIONS_PER_HOUR": "5"}


@pytest.fixture
def server(start_server):
    return start_server(**OAUTH_ENV)


def fresh_ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"


def register(server, name: str = "Sec", ip: str = "") -> dict:
    body = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none", "client_name": name}
    response = httpx.post(f"{server.url}/register", json=body, headers={"x-forwarded-for": ip} if ip else {})
    assert response.status_code == 201, response.text
    return response.json()


def signed_in(server, client: dict, browser: Browser | None = None) -> dict:
    """alice signs in with `client` and consents; the client's token answer."""
    verifier, challenge = pkce()
    params = (browser or Browser("alice")).authorize(authorize_url(server, client["client_id"], challenge))
    response = redeem(server, client["client_id"], params["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(client: dict) -> dict[str, str]:
    return {"authorization": f"Bearer {client['registration_access_token']}"}


def audit_rows(server, client_id: str) -> list[tuple]:
    sql = (
        "SELECT e.kind, e.connection_id, e.detail FROM oauth_gateway_auditevent e "
        f"JOIN oauth_gateway_application a ON a.id = e.application_id WHERE a.client_id = '{client_id}' ORDER BY e.id"
    )
    return server_rows(server.env["DATABASE_URL"], sql)


def test_rfc7592_delete_disables_the_client_through_the_revoke_path_and_keeps_its_audit_trail(server, sim: Sim):
    client = register(server)
    tokens = signed_in(server, client)
    assert mcp_status(server, tokens["access_token"]) == 200
    assert httpx.delete(client["registration_client_uri"], headers=bearer(client)).status_code == 204
    assert mcp_status(server, tokens["access_token"]) == 401
    assert len([r for r in sim.requests() if r["path"] == "/oauth/revoke"]) == 2  # GitLab's access and refresh
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": client["client_id"],
    }
    assert httpx.post(f"{server.url}/token", data=refresh).status_code in (400, 401)
    [(disabled,)] = server_rows(
        server.env["DATABASE_URL"],
        f"SELECT disabled FROM oauth_gateway_application WHERE client_id = '{client['client_id']}'",
    )
    assert disabled is not None  # kept, disabled: its audit rows still say which client acted
    rows = audit_rows(server, client["client_id"])
    kinds = [kind for kind, _, _ in rows]
    assert kinds[0] == "client.registered" and "client.unregistered" in kinds and "client.disabled" in kinds
    [session] = {connection for kind, connection, _ in rows if kind == "consent.given"}
    assert session is not None and ("connection.revoked", session) in [(k, c) for k, c, _ in rows]
    # §2: from now on the registration is unknown here.
    assert httpx.get(client["registration_client_uri"], headers=bearer(client)).status_code == 401
    assert httpx.delete(client["registration_client_uri"], headers=bearer(client)).status_code == 401


def test_rfc7592_the_registration_token_is_checked_before_the_body(server):
    client = register(server)
    evil = {"redirect_uris": ["http://evil.example/cb"], "token_endpoint_auth_method": "none"}
    for headers in ({}, {"authorization": "Bearer not-the-token"}):
        response = httpx.put(client["registration_client_uri"], json=evil, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_rfc7592_a_deeply_nested_body_is_invalid_client_metadata_not_a_crash(server):
    client = register(server)
    body = b'{"redirect_uris": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = {**bearer(client), "content-type": "application/json"}
    response = httpx.put(client["registration_client_uri"], content=body, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


def test_rfc7592_a_rename_is_audited_and_users_consent_again_under_the_new_name(server, sim: Sim):
    client = register(server, "Helpful Tool")
    tokens = signed_in(server, client)
    metadata = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none", "client_name": "GitLab"}
    response = httpx.put(client["registration_client_uri"], json=metadata, headers=bearer(client))
    assert response.status_code == 200 and response.json()["client_name"] == "GitLab"
    assert mcp_status(server, tokens["access_token"]) == 401  # the session consented to another name
    assert len([r for r in sim.requests() if r["path"] == "/oauth/revoke"]) == 2
    [(_, _, detail)] = [row for row in audit_rows(server, client["client_id"]) if row[0] == "client.renamed"]
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert detail["old_name"] == "Helpful Tool" and detail["client_name"] == "GitLab" and detail["sessions"] == 1
    browser = Browser("alice")
    signed_in(server, client, browser)
    [consent] = [page for page in browser.pages if 'name="allow"' in page]
    assert "<title>Allow GitLab?</title>" in consent and "Helpful Tool" not in consent


def test_rfc7592_management_is_rate_limited_per_address_like_registration(start_server):
    server, ip = start_server(**LIMITED), fresh_ip()
    client = register(server, ip=ip)
    uri = client["registration_client_uri"]
    reads = [httpx.get(uri, headers={**bearer(client), "x-forwarded-for": ip}).status_code for _ in range(6)]
    assert reads == [200] * 5 + [429]
    guesses = [httpx.delete(uri, headers={"x-forwarded-for": fresh_ip()}).status_code for _ in range(2)]
    assert guesses == [401, 401]  # another address: its own budget
    guesser = fresh_ip()
    guesses = [httpx.delete(uri, headers={"x-forwarded-for": guesser}).status_code for _ in range(6)]
    assert guesses == [401] * 5 + [429]


def test_rfc7591_concurrent_registrations_cannot_pass_the_limit_together(start_server):
    server, ip = start_server(**LIMITED), fresh_ip()
    body = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
    start = threading.Barrier(30)

    def one(_: int) -> int:
        start.wait()
        return httpx.post(f"{server.url}/register", json=body, headers={"x-forwarded-for": ip}, timeout=120).status_code

    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(one, range(30)))
    assert statuses.count(201) == 5 and statuses.count(429) == 25


@pytest.mark.parametrize(
    "uri",
    [
        "https://ok.example/cb http://evil.example/cb",  # stored space-separated: two URIs
        "https://ok.example/cb\thttp://evil.example/cb",
        "https://ok.example/cb\nhttp://evil.example/cb",
        "https://ok.example/c\x00b",
        "https://ok.example/cb\u00a0",
    ],
)
def test_rfc7591_a_redirect_uri_with_whitespace_or_control_characters_is_refused(server, uri):
    response = httpx.post(f"{server.url}/register", json={"redirect_uris": [uri], "token_endpoint_auth_method": "none"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_redirect_uri"


def register_status(server, ip: str, redirect_uri: str) -> int:
    body = {"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"}
    return httpx.post(f"{server.url}/register", json=body, headers={"x-forwarded-for": ip}).status_code


def test_rfc7591_by_default_a_team_of_50_behind_one_address_registers_within_the_hour(start_server):
    defaults = {k: v for k, v in OAUTH_ENV.items() if k != "OAUTH_REGISTRATIONS_PER_HOUR"}
    server, ip = start_server(**defaults, TRUSTED_PROXIES="127.0.0.1"), fresh_ip()
    # Claude.ai registers every member from its shared egress with one redirect host; local clients
    # (Claude Code, mcp-remote) register loopback ones.
    claude = [register_status(server, ip, "https://claude.ai/api/mcp/auth_callback") for _ in range(50)]
    local = [register_status(server, ip, f"http://127.0.0.1:{33000 + n}/callback") for n in range(50)]
    assert claude == [201] * 50 and local == [201] * 50


def test_rfc7591_the_limit_is_per_address_and_redirect_host(start_server):
    server, ip = start_server(**LIMITED), fresh_ip()
    flood = [register_status(server, ip, "https://flood.example/cb") for _ in range(6)]
    assert flood == [201] * 5 + [429]
    limited = httpx.post(
        f"{server.url}/register",
        json={"redirect_uris": ["https://flood.example/cb"], "token_endpoint_auth_method": "none"},
        headers={"x-forwarded-for": ip},
    )
    assert limited.json()["error"] == "too_many_requests" and limited.headers["retry-after"] == "3600"
    assert register_status(server, ip, "https://claude.ai/api/mcp/auth_callback") == 201  # another host
    assert register_status(server, fresh_ip(), "https://flood.example/cb") == 201  # another address


def test_rfc7591_an_address_naming_a_new_host_each_time_still_ends_at_ten_times_the_limit(start_server):
    server, ip = start_server(**LIMITED), fresh_ip()
    statuses = [register_status(server, ip, f"https://h{n}.flood.example/cb") for n in range(51)]
    assert statuses == [201] * 50 + [429]
    assert register_status(server, fresh_ip(), "https://h0.flood.example/cb") == 201
