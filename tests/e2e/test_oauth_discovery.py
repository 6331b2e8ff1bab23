"""Discovery and registration: RFC 8414, RFC 9728, RFC 7591/7592, CORS."""

from __future__ import annotations

import httpx
import pytest

from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV


@pytest.fixture
def server(start_server):
    return start_server(**OAUTH_ENV)


def test_rfc8414_metadata_names_public_url_and_our_endpoints(server):
    meta = httpx.get(f"{server.url}/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == server.url  # PUBLIC_URL exactly, no trailing slash
    assert meta["authorization_endpoint"] == f"{server.url}/authorize"
    assert meta["token_endpoint"] == f"{server.url}/token"
    assert meta["registration_endpoint"] == f"{server.url}/register"
    assert meta["revocation_endpoint"] == f"{server.url}/revoke"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"none", "client_secret_post", "client_secret_basic"}
    assert "client_id_metadata_document_supported" not in meta  # CIMD is off unless turned on


@pytest.mark.parametrize(
    ("path", "resource"),
    [("/.well-known/oauth-protected-resource", ""), ("/.well-known/oauth-protected-resource/mcp", "/mcp")],
)
def test_rfc9728_metadata_names_the_url_it_describes(server, path, resource):
    response = httpx.get(f"{server.url}{path}")
    assert response.headers["access-control-allow-origin"] == "*"
    meta = response.json()
    assert meta["resource"] == f"{server.url}{resource}"  # §3.3 (tests/e2e/test_oauth_audience.py)
    assert meta["authorization_servers"] == [server.url]


def test_spoofed_host_headers_do_not_change_the_issuer(server):
    meta = httpx.get(
        f"{server.url}/.well-known/oauth-authorization-server",
        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    ).json()
    assert meta["issuer"] == server.url
    assert "evil" not in str(meta)


def test_registration_gives_a_public_client_with_issued_at(server):
    response = httpx.post(
        f"{server.url}/register",
        json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none", "client_name": "Claude"},
    )
    assert response.status_code == 201, response.text
    client = response.json()
    assert client["client_id"] and "client_secret" not in client
    assert isinstance(client["client_id_issued_at"], int)
    assert client["token_endpoint_auth_method"] == "none"
    assert client["response_types"] == ["code"]  # RFC 7591 §3.2.1: all registered metadata
    assert response.headers["access-control-allow-origin"] == "*"


def test_rfc7591_a_device_grant_client_registers_no_response_types(server):
    grants = ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]
    response = httpx.post(f"{server.url}/register", json={"grant_types": grants, "token_endpoint_auth_method": "none"})
    assert response.status_code == 201, response.text
    assert response.json()["response_types"] == []


def test_rfc7009_revocation_answers_200_with_json(server):
    client = httpx.post(
        f"{server.url}/register", json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
    ).json()
    response = httpx.post(f"{server.url}/revoke", data={"token": "unknown-token", "client_id": client["client_id"]})
    assert response.status_code == 200  # §2.2: whether or not the token was known
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    assert response.headers["access-control-allow-origin"] == "*"


def test_registration_of_a_confidential_client_returns_its_secret_once(server):
    client = httpx.post(
        f"{server.url}/register",
        json={
            "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
            "token_endpoint_auth_method": "client_secret_post",
        },
    ).json()
    assert client["client_secret"] and client["client_secret_expires_at"] == 0
    assert client["token_endpoint_auth_method"] == "client_secret_post"


@pytest.mark.parametrize(
    "uri",
    ["http://evil.example/callback", "javascript:alert(1)", "myapp://callback", "https://ok.example/cb#frag"],
)
def test_registration_refuses_unsafe_redirect_uris(server, uri):
    response = httpx.post(f"{server.url}/register", json={"redirect_uris": [uri], "token_endpoint_auth_method": "none"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


def test_registration_accepts_any_loopback_port(server):
    response = httpx.post(
        f"{server.url}/register",
        json={
            "redirect_uris": ["http://localhost:33418/callback", "http://[::1]:8080/cb"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"redirect_uris": "x"}', b'{"grant_types": ["password"]}'])
def test_malformed_registrations_get_invalid_client_metadata(server, body):
    response = httpx.post(f"{server.url}/register", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


def test_registration_is_rate_limited_per_ip(start_server):
    limited = start_server(**{**OAUTH_ENV, "OAUTH_REGISTRATIONS_PER_HOUR": "2"})
    body = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
    statuses = [httpx.post(f"{limited.url}/register", json=body).status_code for _ in range(4)]
    assert statuses.count(201) <= 2 and statuses[-1] == 429


def test_rfc7592_reads_and_deletes_a_registration(server):
    client = httpx.post(
        f"{server.url}/register", json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
    ).json()
    auth = {"authorization": f"Bearer {client['registration_access_token']}"}
    assert httpx.get(client["registration_client_uri"], headers=auth).json()["client_id"] == client["client_id"]
    assert httpx.get(client["registration_client_uri"]).status_code == 401
    assert httpx.delete(client["registration_client_uri"], headers=auth).status_code == 204


def test_cors_preflight_on_token(server):
    response = httpx.options(
        f"{server.url}/token", headers={"origin": "https://app.example", "access-control-request-method": "POST"}
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
