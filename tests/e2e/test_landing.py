"""GET / in a browser: what this server is and the URL to paste into an MCP client. MCP on / is
unchanged: POSTs, and a GET asking for an event stream, still reach the MCP transport."""

from __future__ import annotations

import httpx

from tests.harness import Server
from tests.oauth_client import OAUTH_ENV

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def test_a_browser_gets_the_mcp_url_to_paste(server: Server):
    page = httpx.get(f"{server.url}/", headers=BROWSER)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"{server.url}/mcp" in page.text
    assert f"claude mcp add --transport http gitlab {server.url}/mcp" in page.text
    # Claude Desktop reads no URL from its config file: Connectors, or the mcp-remote bridge.
    assert f"npx -y mcp-remote {server.url}/mcp" in page.text
    assert "/connections/" not in page.text  # static-token mode: nobody signs in


def test_in_oauth_mode_it_links_to_connections(start_server):
    server = start_server(**OAUTH_ENV)
    page = httpx.get(f"{server.url}/", headers=BROWSER)
    assert page.status_code == 200
    assert f"{server.url}/mcp" in page.text and 'href="/connections/"' in page.text
    assert "Sign in with GitLab" in page.text


def test_with_mcp_auth_token_it_says_a_bearer_is_needed_and_never_shows_it(start_server):
    token = "landing-page-token-0123456789"
    server = start_server(MCP_AUTH_TOKEN=token)
    page = httpx.get(f"{server.url}/", headers=BROWSER)
    assert "Authorization: Bearer" in page.text and token not in page.text


def test_mcp_on_the_root_url_is_unchanged(server: Server):
    mcp = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    posted = httpx.post(f"{server.url}/", json=INITIALIZE, headers=mcp)
    assert posted.status_code == 200 and posted.json()["result"]["serverInfo"]["name"] == "gitlab-mcp"
    assert opened_stream(f"{server.url}/") == opened_stream(f"{server.url}/mcp")
    # An MCP client's GET (its protocol header) is never answered with the page, whatever it accepts.
    mcp_get = httpx.get(f"{server.url}/", headers={**BROWSER, "mcp-protocol-version": "2025-06-18"})
    assert mcp_get.status_code == 404 and "/mcp" not in mcp_get.text


def test_a_client_that_does_not_ask_for_html_gets_no_page(server: Server):
    assert httpx.get(f"{server.url}/", headers={"accept": "application/json"}).status_code == 404


def opened_stream(url: str) -> str:
    """What a GET asking for an event stream gets: its status and content type, or an open stream."""
    headers = {"accept": "text/event-stream", "mcp-protocol-version": "2025-06-18"}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=3) as response:
            return f"{response.status_code} {response.headers.get('content-type', '')}"
    except httpx.ReadTimeout:
        return "held open"
