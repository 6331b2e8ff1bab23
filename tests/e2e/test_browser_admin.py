"""The admin in a real browser (chromium): a createsuperuser admin logs in with a password, finds
alice's connection among the connections, revokes it, and follows her audit trail. Her MCP token is
refused on the next request while bob's keeps working.

End to end: Daphne in OAuth mode, the GitLab simulator, the MCP SDK client holding real tokens.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from tests.browser import McpSession, mcp_session, screenshot, without_secrets
from tests.harness import ROOT, Sim
from tests.oauth_client import OAUTH_ENV, mcp_status

ADMIN, PASSWORD = "admin", "correct horse battery staple"
LAPTOP: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture
def server(start_server: Any, sim: Sim) -> Any:
    return start_server(**OAUTH_ENV)


def create_superuser(server: Any) -> None:
    """`manage.py createsuperuser --noinput`, as an operator runs it against the server's database."""
    env = {
        **server.env,
        "DJANGO_SUPERUSER_USERNAME": ADMIN,
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "DJANGO_SUPERUSER_EMAIL": "admin@example.test",
    }
    argv = [sys.executable, "manage.py", "createsuperuser", "--noinput"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def log_in(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    expect(page.get_by_role("link", name="Sign in with GitLab", exact=True)).to_be_visible()  # beside the password form
    screenshot(page.locator("#container"), "admin-login.png", readme=True)
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    expect(page).to_have_url(f"{server_url}/admin/")


def revoke_in_admin(context: BrowserContext, server_url: str, alice: McpSession, bob: McpSession) -> None:
    page = context.new_page()
    page.set_viewport_size(LAPTOP)  # the lists fit a laptop's window (tests/e2e/test_browser_admin_pages.py)
    log_in(page, server_url)
    revoke_alices_connection(page, alice, bob)
    follow_her_audit_trail(page, alice, bob)
    for name, path in (("users", "auth/user"), ("clients", "oauth_gateway/application")):
        page.goto(f"{server_url}/admin/{path}/")  # the README's other two pages, checked for leaks too
        expect(page.locator("#result_list")).to_be_visible()
        without_secrets(page, alice.secrets() + bob.secrets())
        screenshot(page, f"admin-{name}.png", readme=True)


def revoke_alices_connection(page: Page, alice: McpSession, bob: McpSession) -> None:
    page.get_by_role("link", name="Connections", exact=True).click()
    alice_row = page.locator(f"#result_list tr:has(input.action-select[value='{alice.connection_id}'])")
    bob_row = page.locator(f"#result_list tr:has(input.action-select[value='{bob.connection_id}'])")
    expect(alice_row.locator("td.field-state")).to_have_text("active")
    expect(bob_row.locator("td.field-state")).to_have_text("active")
    without_secrets(page, alice.secrets() + bob.secrets())
    screenshot(page, "admin-connections.png", readme=True)

    page.fill("#searchbar", "alice")
    page.press("#searchbar", "Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=alice"))
    expect(bob_row).to_have_count(0)
    expect(alice_row.locator("td.field-user_name")).to_contain_text("alice")
    alice_row.locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke_connections")
    page.click("#changelist-form button[name=index]")
    expect(page.locator("#content h1")).to_have_text("Revoke 1 connection of 1 user?")  # asked first
    expect(page.locator(".confirm-objects li")).to_have_text(re.compile(r"^alice via Test client, since "))
    page.click("#confirm-yes")
    expect(page.locator("ul.messagelist li")).to_have_text("Revoked 1 connection.")
    expect(alice_row.locator("td.field-state")).to_have_text("revoked")
    screenshot(page, "admin-connections-revoked.png")
    alice_row.locator("td.field-user_name a.trail").click()  # her audit trail: one click from her connection


def follow_her_audit_trail(page: Page, alice: McpSession, bob: McpSession) -> None:
    expect(page).to_have_url(re.compile(r"/admin/oauth_gateway/auditevent/\?user__id__exact=\d+$"))
    rows = page.locator("#result_list tbody tr")
    revoked = rows.filter(has=page.locator("td.field-event", has_text="connection.revoked"))
    expect(revoked.first.locator("td.field-detail_json")).to_contain_text('"by":"admin"')
    without_secrets(page, alice.secrets() + bob.secrets())
    screenshot(page, "admin-audit.png", readme=True)

    with page.expect_download() as download:  # the export carries the page's filter
        page.click("#audit-export-csv")
    exported = Path(download.value.path()).read_text()
    assert not [secret for secret in alice.secrets() + bob.secrets() if secret in exported]
    lines = list(csv.DictReader(io.StringIO(exported)))
    shown = re.search(r"(\d+) audit log", page.locator("#changelist-form p.paginator").inner_text())
    assert shown and len(lines) == int(shown.group(1))  # every page of the view, nothing more
    assert {line["user"] for line in lines} == {"alice"}
    assert "connection.revoked" in {line["kind"] for line in lines}


async def test_an_admin_revokes_alices_connection_in_the_browser_and_only_her_token_dies(server, sim: Sim, chromium):
    create_superuser(server)
    alice = await mcp_session(server, "alice")
    bob = await mcp_session(server, "bob")
    assert mcp_status(server, alice.access_token) == 200

    await chromium.run(revoke_in_admin, server.url, alice, bob)

    assert mcp_status(server, alice.access_token) == 401  # the next request after the click
    assert mcp_status(server, bob.access_token) == 200
