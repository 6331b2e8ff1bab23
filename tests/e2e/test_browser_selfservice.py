"""/connections/ in a real browser (chromium): alice, signed in at GitLab, opens the page, signs in
with GitLab, sees her MCP connection and disconnects it. Her MCP token is refused on the next request
while bob's keeps working.

End to end: Daphne in OAuth mode, the GitLab simulator, the MCP SDK client holding real tokens.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser import McpSession, mcp_session, screenshot, without_secrets
from tests.harness import Sim
from tests.oauth_client import OAUTH_ENV, mcp_status


@pytest.fixture
def server(start_server: Any, sim: Sim) -> Any:
    return start_server(**OAUTH_ENV)


def disconnect_at_connections(
    context: BrowserContext, server_url: str, sim_url: str, alice: McpSession, bob: McpSession
) -> None:
    # Who is signed in at the simulated GitLab: its cookie, as GitLab's own session cookie would be.
    context.add_cookies([{"name": "gitlab_sim_user", "value": "alice", "url": sim_url}])
    page = context.new_page()
    gitlab_visits: list[str] = []
    page.on("request", lambda request: gitlab_visits.append(request.url) if request.url.startswith(sim_url) else None)

    page.goto(f"{server_url}/connections/")  # not signed in here: to GitLab and back
    expect(page).to_have_url(f"{server_url}/connections/")
    assert any(url.startswith(f"{sim_url}/oauth/authorize?") for url in gitlab_visits), gitlab_visits
    expect(page.locator("h1")).to_have_text("Clients connected to GitLab as alice")
    mine = page.locator(f"#active-connections #connection-{alice.connection_id}")
    expect(mine).to_contain_text("Test client")
    expect(page.locator(f"#connection-{bob.connection_id}")).to_have_count(0)  # only her own
    without_secrets(page, alice.secrets() + bob.secrets())
    screenshot(page, "connections.png", readme=True)

    mine.get_by_role("button", name="Disconnect").click()
    expect(page.locator("ul.messages li")).to_have_text("Disconnected Test client.")
    expect(page.locator(f"#active-connections #connection-{alice.connection_id}")).to_have_count(0)
    expect(page.locator(f"#ended-connections #connection-{alice.connection_id}")).to_be_visible()
    screenshot(page, "connections-disconnected.png")


async def test_alice_disconnects_her_connection_in_the_browser_and_only_her_token_dies(server, sim: Sim, chromium):
    alice = await mcp_session(server, "alice")
    bob = await mcp_session(server, "bob")
    assert mcp_status(server, alice.access_token) == 200

    await chromium.run(disconnect_at_connections, server.url, sim.url, alice, bob)

    assert mcp_status(server, alice.access_token) == 401  # the next request after the click
    assert mcp_status(server, bob.access_token) == 200
