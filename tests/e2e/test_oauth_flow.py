"""OAuth mode end to end: the MCP SDK's OAuth client, our server, the simulated GitLab."""

from __future__ import annotations

import httpx

from tests.harness import Server, Sim
from tests.oauth_client import OAUTH_ENV, Browser, oauth_mcp, structured


def oauth_server(start_server) -> Server:
    return start_server(**OAUTH_ENV)


async def test_a_user_signs_in_with_gitlab_and_tools_run_as_them(start_server, sim: Sim):
    server = oauth_server(start_server)
    browser = Browser("alice")
    async with oauth_mcp(server.url, browser) as client:
        me = structured(await client.call_tool("get_current_user", {}))
        note = structured(await client.call_tool("create_issue_note", {"project": "acme/app", "iid": 1, "body": "hi"}))
    assert me["username"] == "alice"
    assert note["author"] == "alice"
    consent = browser.pages[-1]
    assert "Test client" in consent and "alice" in consent
    api_calls = [r for r in sim.requests() if r["path"].startswith("/api/v4/")]
    assert api_calls and all(r["authorization"].startswith("Bearer gloas-") for r in api_calls)
    assert not any(r["private_token"] for r in api_calls)


async def test_two_users_see_different_projects(start_server, sim: Sim):
    server = oauth_server(start_server)
    async with oauth_mcp(server.url, Browser("alice")) as alice, oauth_mcp(server.url, Browser("bob")) as bob:
        alice_sees = structured(await alice.call_tool("list_projects", {}))
        bob_sees = structured(await bob.call_tool("list_projects", {}))
        hidden = await alice.call_tool("get_project", {"project": "bob/secret"})
    assert "alice/notes" in {p["path_with_namespace"] for p in alice_sees["items"]}
    assert "bob/secret" in {p["path_with_namespace"] for p in bob_sees["items"]}
    assert "alice/notes" not in {p["path_with_namespace"] for p in bob_sees["items"]}
    assert hidden.is_error


def test_mcp_without_a_token_gets_the_401_challenge(start_server):
    server = oauth_server(start_server)
    response = httpx.post(
        f"{server.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"' in challenge


def test_a_garbage_token_is_invalid_token(start_server):
    server = oauth_server(start_server)
    response = httpx.post(
        f"{server.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"accept": "application/json, text/event-stream", "authorization": "Bearer nonsense"},
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["error"] == "invalid_token"


async def test_the_device_leg_signs_in_with_a_code(start_server, sim: Sim):
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    server = oauth_server(start_server)
    browser = Browser("bob", leg="device", sim_url=sim.url)
    async with oauth_mcp(server.url, browser) as client:
        me = structured(await client.call_tool("get_current_user", {}))
    assert me["username"] == "bob"
    assert browser.polls[-1]["status"] == "complete"
    grants = [r["grant_type"] for r in sim.requests() if r["path"] == "/oauth/token"]
    assert set(grants) == {"urn:ietf:params:oauth:grant-type:device_code"}


async def test_a_confidential_client_signs_in_with_its_secret(start_server, sim: Sim):
    server = oauth_server(start_server)
    async with oauth_mcp(server.url, Browser("alice"), confidential=True) as client:
        me = structured(await client.call_tool("get_current_user", {}))
    assert me["username"] == "alice"


async def _authorize_url(server: Server) -> str:
    """Register a public client by hand and build its /authorize URL (for tests that stop mid-way)."""
    from tests.oauth_client import CLIENT_REDIRECT

    client = httpx.post(
        f"{server.url}/register",
        json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none", "client_name": "Manual"},
    ).json()
    query = httpx.QueryParams(
        response_type="code",
        client_id=client["client_id"],
        redirect_uri=CLIENT_REDIRECT,
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
        state="xyz",
    )
    return f"{server.url}/authorize?{query}"


async def test_a_read_only_gitlab_session_never_sees_write_tools(start_server, sim: Sim):
    server = start_server(**OAUTH_ENV, GITLAB_OAUTH_SCOPES="read_api,read_user")
    async with oauth_mcp(server.url, Browser("alice")) as client:
        tools = (await client.list_tools()).tools
        refused = await client.call_tool("create_issue", {"project": "acme/app", "title": "nope"})
        read = await client.call_tool("get_project", {"project": "acme/app"})
    assert tools and all(t.annotations.read_only_hint for t in tools)
    assert refused.is_error and "read-only scopes" in refused.content[0].text
    assert not read.is_error
