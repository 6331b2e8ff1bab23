"""Tokens in OAuth mode: refresh and rotation, reuse, revocation, audience, and GitLab's own tokens."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.harness import Sim, server_rows
from tests.oauth_client import OAUTH_ENV, Browser, MemoryStorage, bearer_call, oauth_mcp, structured


@pytest.fixture
def server(start_server):
    return start_server(**OAUTH_ENV)


def refresh(server, storage: MemoryStorage, refresh_token: str) -> httpx.Response:
    assert storage.client is not None
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": storage.client.client_id}
    return httpx.post(f"{server.url}/token", data=form)


async def test_the_sdk_refreshes_after_expiry_and_rotation_works(server, sim: Sim):
    storage, providers = MemoryStorage(), []
    async with oauth_mcp(server.url, Browser("alice"), storage=storage, providers=providers) as client:
        structured(await client.call_tool("get_current_user", {}))
        first = storage.tokens
        providers[0].context.token_expiry_time = 1  # the SDK now believes its token expired
        structured(await client.call_tool("get_current_user", {}))
        second = storage.tokens
    assert first and second and second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token  # rotated
    assert bearer_call(server.url, second.access_token).status_code == 200


async def test_refresh_token_reuse_ends_the_whole_session(server, sim: Sim):
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    old = storage.tokens
    assert old is not None and old.refresh_token
    rotated = refresh(server, storage, old.refresh_token)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    reused = refresh(server, storage, old.refresh_token)  # a stolen copy, used after rotation
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert bearer_call(server.url, new["access_token"]).status_code == 401  # the family is dead
    assert refresh(server, storage, new["refresh_token"]).status_code == 400


async def test_a_revoked_token_gets_401_with_the_challenge(server, sim: Sim):
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    token = storage.tokens
    assert token is not None and storage.client is not None
    revoked = httpx.post(
        f"{server.url}/revoke", data={"token": token.access_token, "client_id": storage.client.client_id}
    )
    assert revoked.status_code == 200  # RFC 7009 §2.2
    response = bearer_call(server.url, token.access_token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "resource_metadata=" in response.headers["www-authenticate"]


async def test_an_expired_gitlab_token_is_refreshed_once_for_twenty_concurrent_calls(server, sim: Sim):
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    assert storage.tokens is not None
    httpx.post(f"{sim.url}/_sim/oauth/expire", json={"username": "alice"}).raise_for_status()
    access = storage.tokens.access_token
    responses = await asyncio.gather(*(asyncio.to_thread(bearer_call, server.url, access) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert not any('"isError":true' in r.text for r in responses)
    refreshes = [r for r in sim.requests() if r["path"] == "/oauth/token" and r["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1


async def test_when_gitlab_refuses_the_refresh_the_session_ends_with_401(server, sim: Sim):
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    assert storage.tokens is not None
    httpx.post(f"{sim.url}/_sim/oauth/expire", json={"username": "alice"}).raise_for_status()
    sim.fault("^/oauth/token$", status=400, body={"error": "invalid_grant", "error_description": "revoked"})
    first = bearer_call(server.url, storage.tokens.access_token)
    assert first.status_code == 200 and '"isError":true' in first.text  # this call fails readably
    assert "Sign in again" in first.text
    assert bearer_call(server.url, storage.tokens.access_token).status_code == 401  # then the session is over


async def test_gitlab_refusing_our_client_credentials_does_not_end_the_session(server, sim: Sim):
    """invalid_client is the operator's problem (e.g. GITLAB_OAUTH_CLIENT_SECRET mid-rotation): the
    call fails readably, the session stays, and the next call after the fix works."""
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    assert storage.tokens is not None
    httpx.post(f"{sim.url}/_sim/oauth/expire", json={"username": "alice"}).raise_for_status()
    sim.fault("^/oauth/token$", status=401, times=1, body={"error": "invalid_client", "error_description": "bad"})
    first = bearer_call(server.url, storage.tokens.access_token)
    assert first.status_code == 200 and '"isError":true' in first.text
    assert "try again shortly" in first.text
    second = bearer_call(server.url, storage.tokens.access_token)
    assert second.status_code == 200 and '"username":"alice"' in second.text


def test_a_token_for_another_audience_is_refused(server):
    # A token minted by hand without our resource cannot exist through /authorize (it defaults the
    # resource); a registration access token is the one kind of token DOT mints without it.
    client = httpx.post(
        f"{server.url}/register",
        json={"redirect_uris": ["http://127.0.0.1:1/cb"], "token_endpoint_auth_method": "none"},
    ).json()
    response = bearer_call(server.url, client["registration_access_token"])
    assert response.status_code == 401


async def test_a_gitlab_token_about_to_expire_is_refreshed_before_the_call(start_server, sim: Sim):
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"token_ttl": 30}).raise_for_status()  # inside the margin
    server = start_server(**OAUTH_ENV)
    async with oauth_mcp(server.url, Browser("alice")) as client:
        me = structured(await client.call_tool("get_current_user", {}))
    assert me["username"] == "alice"
    token_calls = [r for r in sim.requests() if r["path"] in ("/oauth/token", "/api/v4/user")]
    grants = [r.get("grant_type") for r in token_calls]
    # code exchange, /user at sign-in, then a refresh before the tool's own /user call
    assert grants[:2] == ["authorization_code", None] and "refresh_token" in grants[2:]
    user_calls = [r for r in sim.requests() if r["path"] == "/api/v4/user"]
    assert len({r["authorization"] for r in user_calls}) == 2  # the tool used the refreshed token


async def test_an_expired_mcp_token_gets_401(server, sim: Sim, database_url):
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    assert storage.tokens is not None
    server_rows(database_url, "UPDATE oauth_gateway_accesstoken SET expires = '2000-01-01 00:00:00+00:00'")
    response = bearer_call(server.url, storage.tokens.access_token)
    assert response.status_code == 401
    assert "expired" in response.json()["error_description"]
