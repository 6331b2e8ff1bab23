"""One audience, two URLs: the server root (what users type, what Claude.ai posts to) and /mcp.

RFC 9728 §3.3 (each protected-resource document names the URL it was found under), §5.1 (each 401
names its URL's document), RFC 8707 §2 (either URL is a valid `resource`; any other is invalid_target).
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_oauth_security import authorize_url, pkce, register
from tests.harness import Sim
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser, oauth_mcp, structured

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_current_user", "arguments": {}}}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}


@pytest.fixture
def server(start_server):
    return start_server(**OAUTH_ENV)


def call(server, path: str, token: str | None = None, **headers: str) -> httpx.Response:
    """One raw `tools/call get_current_user` on `path`, outside the SDK."""
    auth = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}{path}", json=CALL, headers={**MCP_HEADERS, **auth, **headers}, timeout=30)


def tokens_for(server, resource: str, token_resource: str | None = None) -> dict:
    """alice signs in asking for `resource` at /authorize (and `token_resource` at /token); the token
    answer, with the client's id."""
    client, (verifier, challenge) = register(server), pkce()
    params = Browser("alice").authorize(authorize_url(server, client["client_id"], challenge, resource=resource))
    assert "code" in params, params
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": CLIENT_REDIRECT,
        "client_id": client["client_id"],
        "code_verifier": verifier,
        "resource": token_resource if token_resource is not None else resource,
    }
    response = httpx.post(f"{server.url}/token", data=form)
    assert response.status_code == 200, response.text
    return {**response.json(), "client_id": client["client_id"]}


@pytest.mark.parametrize(("path", "suffix"), [("/.well-known/oauth-protected-resource", ""), ("/mcp", "/mcp")])
def test_rfc9728_3_3_each_document_names_the_url_it_was_found_under(server, path, suffix):
    document = path if path.startswith("/.well-known") else f"/.well-known/oauth-protected-resource{path}"
    meta = httpx.get(f"{server.url}{document}").json()
    assert meta["resource"] == f"{server.url}{suffix}"  # the root without a trailing slash
    assert meta["authorization_servers"] == [server.url]


@pytest.mark.parametrize(("path", "document"), [("/", ""), ("/mcp", "/mcp")])
def test_rfc9728_5_1_each_401_names_the_document_of_its_url(server, path, document):
    response = call(server, path)
    assert response.status_code == 401
    expected = f'resource_metadata="{server.url}/.well-known/oauth-protected-resource{document}"'
    assert expected in response.headers["www-authenticate"]


@pytest.mark.parametrize("path", ["", "/"])
async def test_the_sdk_client_signs_in_and_calls_a_tool_at_the_server_root(server, sim: Sim, path):
    async with oauth_mcp(server.url, Browser("alice"), path=path) as client:
        me = structured(await client.call_tool("get_current_user", {}))
    assert me["username"] == "alice"
    asked = [r for r in sim.requests() if r["path"] == "/api/v4/user"]
    assert asked  # the tool ran, as alice, through GitLab


@pytest.mark.parametrize(
    ("resource", "at_token"),
    [("", "/"), ("/", ""), ("/mcp", "/mcp"), ("/mcp/", "/mcp"), ("", "/mcp")],
)
def test_rfc8707_either_url_is_the_resource_and_its_token_works_on_both(server, sim: Sim, resource, at_token):
    tokens = tokens_for(server, f"{server.url}{resource}", f"{server.url}{at_token}")
    for path in ("/", "/mcp"):
        response = call(server, path, tokens["access_token"])
        assert response.status_code == 200, response.text
        assert response.json()["result"]["structuredContent"]["username"] == "alice"
    refreshed = httpx.post(
        f"{server.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": tokens["client_id"],
            "resource": f"{server.url}{resource}",
        },
    )
    assert refreshed.status_code == 200, refreshed.text


def test_rfc8707_2_a_foreign_resource_goes_back_to_the_client_as_invalid_target(server):
    client = register(server)
    url = authorize_url(server, client["client_id"], pkce()[1], resource="https://other.example/mcp")
    response = httpx.get(url)
    assert response.status_code == 302
    location = httpx.URL(response.headers["location"])
    assert str(location).startswith(CLIENT_REDIRECT)
    assert location.params["error"] == "invalid_target"
    assert location.params["state"] == "st4te" and location.params["iss"] == server.url


def test_rfc8707_2_a_foreign_resource_with_an_unregistered_redirect_uri_gets_a_page(server):
    client = register(server)
    url = authorize_url(
        server, client["client_id"], pkce()[1], resource="https://other.example/", redirect_uri="https://evil.example/"
    )
    response = httpx.get(url)
    assert response.status_code == 400 and "location" not in response.headers


def test_rfc8707_2_a_foreign_resource_at_token_is_invalid_target(server, sim: Sim):
    with pytest.raises(AssertionError, match="invalid_target"):
        tokens_for(server, server.url, "https://other.example/")


def test_rfc8628_device_authorization_takes_the_root_as_resource(server, sim: Sim):
    body = {"client_name": "Terminal", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]}
    client = httpx.post(f"{server.url}/register", json={**body, "token_endpoint_auth_method": "none"}).json()
    for resource in (server.url, f"{server.url}/"):
        response = httpx.post(
            f"{server.url}/device_authorization", data={"client_id": client["client_id"], "resource": resource}
        )
        assert response.status_code == 200, response.text
