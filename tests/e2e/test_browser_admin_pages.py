"""The admin's pages in chromium at a laptop's 1280×800: every list fits (no sideways scrolling, the
state column in view), every action asks first with counts and names (cancel changes nothing,
confirm acts and is audited), and a signed-in non-admin is pointed to /connections/.

Django's live server (a thread of this process) on the test database; rows made with the ORM as in
tests/test_admin.py; GitLab unreachable, as revocation must not wait for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import BrowserContext, Page, expect

from oauth_gateway.models import Application, AuditEvent, GitLabConnection
from tests.browser import screenshot
from tests.cast import connection_for, make_client, make_user
from tests.test_admin import AUDIT, CLIENTS, CONNECTIONS, USERS, gateway

__all__ = ["gateway"]  # autouse: GitLab unreachable, a session secret

pytestmark = [pytest.mark.filterwarnings("ignore:No directory at"), pytest.mark.urls("tests.oauth_urls")]
LAPTOP = {"width": 1280, "height": 800}
AXES = ("/admin/axes/accessattempt/", "/admin/axes/accesslog/", "/admin/axes/accessfailurelog/")  # lock-outs
PASSWORD = "a long admin password 0123"


@pytest.fixture
def cast(transactional_db: Any) -> dict[str, Any]:
    """alice with two connections, bob with one (and an ended one), three clients, an admin."""
    alice, bob = make_user("alice", 1), make_user("bob", 2)
    claude, cursor = make_client("Claude Code"), make_client("Cursor", "cimd")
    make_client("An MCP client with a name long enough to wrap in its column", "dcr")
    User.objects.create_superuser("root", "root@example.test", PASSWORD)
    connections = {
        "alice_claude": connection_for(alice, claude),
        "alice_cursor": connection_for(alice, cursor, leg=GitLabConnection.Leg.DEVICE),
        "bob_claude": connection_for(bob, claude, ip="2001:db8:ffff:ffff:ffff:ffff:ffff:fffe"),
    }
    for kind in (AuditEvent.Kind.TOOL_CALL, AuditEvent.Kind.USER_CONNECTIONS_REVOKED):
        AuditEvent.objects.create(
            kind=kind,
            user=alice,
            application=claude,
            tool="list_merge_request_discussions",
            project="acme/a-project-with-a-rather-long-path/and-a-subgroup",
            ip="2001:db8:ffff:ffff:ffff:ffff:ffff:fffe",
            detail={"by": "admin", "actor_id": 1, "sessions": 2, "arguments": ["project_id", "merge_request_iid"]},
        )
    agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    where = {"ip_address": "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", "user_agent": agent, "path_info": "/admin/login/"}
    AccessAttempt.objects.create(username="root", failures_since_start=3, get_data="", post_data="", **where)
    AccessFailureLog.objects.create(username="root", **where)
    AccessLog.objects.create(username="root", http_accept="text/html," * 20, **where)
    return {"alice": alice, "bob": bob, "claude": claude, "cursor": cursor, **connections}


def run(chromium: Any, script: Any, *args: Any) -> Any:
    return asyncio.run(chromium.run(script, *args))


def log_in(context: BrowserContext, url: str, username: str = "root", password: str = PASSWORD) -> Page:
    page = context.new_page()
    page.set_viewport_size(LAPTOP)  # type: ignore[arg-type]
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form [type=submit]")
    return page


def overflow(page: Page) -> int:
    """How many pixels the page, or the list's own scrolling box, is wider than it shows (0: no
    sideways scrolling anywhere)."""
    script = """() => Math.max(...[document.documentElement, document.querySelector('#changelist .results')]
        .map(box => box.scrollWidth - box.clientWidth))"""
    return int(page.evaluate(script))


def lists_at_1280(context: BrowserContext, url: str) -> dict[str, Any]:
    page = log_in(context, url)
    expect(page).to_have_url(f"{url}/admin/")
    measured = {}
    for path in (CONNECTIONS, USERS, CLIENTS, AUDIT, *AXES):
        page.goto(f"{url}{path}")
        expect(page.locator("#result_list")).to_be_visible()
        last = page.locator("#result_list thead th").last.bounding_box()
        state = page.locator("#result_list thead th.column-state")
        state_box = state.bounding_box() if state.count() else None
        measured[path] = {
            "overflow": overflow(page),
            "last_right": last["x"] + last["width"] if last else None,
            "state_right": state_box["x"] + state_box["width"] if state_box else None,
        }
        screenshot(page, f"admin-1280-{path.strip('/').replace('/', '-')}.png")
    return measured


def test_every_admin_list_fits_1280_px(live_server, cast, chromium):
    measured = run(chromium, lists_at_1280, live_server.url)
    for path, sizes in measured.items():
        assert sizes["overflow"] == 0, (path, sizes)
        assert sizes["last_right"] is not None and sizes["last_right"] <= LAPTOP["width"], (path, sizes)
    for path in (CONNECTIONS, CLIENTS):  # the column the issue lost off screen
        assert measured[path]["state_right"] is not None and measured[path]["state_right"] <= LAPTOP["width"]


def ask_cancel_then_confirm(context: BrowserContext, url: str, ids: list[int]) -> dict[str, str]:
    page = log_in(context, url)
    page.goto(f"{url}{CONNECTIONS}")
    seen = {}
    for pk in ids:
        page.locator(f"input.action-select[value='{pk}']").check()
    page.select_option("select[name=action]", "revoke_connections")
    page.click("#changelist-form button[name=index]")
    expect(page.locator("#content h1")).to_have_text("Revoke 3 connections of 2 users?")
    expect(page.locator(".confirm-objects li")).to_have_count(3)
    seen["objects"] = page.locator(".confirm-objects").inner_text()
    screenshot(page, "admin-confirm.png", readme=True)
    page.click("#confirm-cancel")
    expect(page).to_have_url(f"{url}{CONNECTIONS}")
    expect(page.locator("td.field-state", has_text="active")).to_have_count(3)  # nothing ended
    for pk in ids:
        page.locator(f"input.action-select[value='{pk}']").check()
    page.select_option("select[name=action]", "revoke_connections")
    page.click("#changelist-form button[name=index]")
    page.click("#confirm-yes")
    expect(page.locator("ul.messagelist li")).to_have_text("Revoked 3 connections.")
    expect(page.locator("td.field-state", has_text="revoked")).to_have_count(3)
    return seen


def test_revoking_asks_with_counts_cancel_changes_nothing_and_yes_acts_and_is_audited(live_server, cast, chromium):
    ids = [cast[name].pk for name in ("alice_claude", "alice_cursor", "bob_claude")]
    seen = run(chromium, ask_cancel_then_confirm, live_server.url, ids)
    assert "alice via Claude Code, since" in seen["objects"] and "bob via Claude Code" in seen["objects"]
    assert not GitLabConnection.objects.filter(revoked__isnull=True).exists()
    revoked = AuditEvent.objects.filter(kind=AuditEvent.Kind.CONNECTION_REVOKED)
    assert sorted(revoked.values_list("connection_id", flat=True)) == sorted(ids)
    assert {event.detail["by"] for event in revoked} == {"admin"}


def disable_from_the_client_page(context: BrowserContext, url: str, client_pk: int) -> str:
    page = log_in(context, url)
    page.goto(f"{url}{CLIENTS}{client_pk}/change/")
    page.get_by_role("button", name="Disable this client").click()
    question = page.locator("#content h1").inner_text()
    page.click("#confirm-cancel")
    expect(page).to_have_url(f"{url}{CLIENTS}{client_pk}/change/")
    page.get_by_role("button", name="Disable this client").click()
    page.click("#confirm-yes")
    expect(page.get_by_role("button", name="Enable this client")).to_be_visible()
    return question


def test_an_object_page_button_asks_too_and_cancel_returns_to_the_object(live_server, cast, chromium):
    question = run(chromium, disable_from_the_client_page, live_server.url, cast["claude"].pk)
    assert question == "Disable 1 client and end their 2 active connections?"
    assert Application.objects.get(pk=cast["claude"].pk).disabled is not None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CLIENT_DISABLED, application=cast["claude"]).count() == 1
    assert GitLabConnection.objects.get(pk=cast["alice_cursor"].pk).revoked is None  # another client's


def non_admin_at_admin(context: BrowserContext, url: str, session_id: str) -> dict[str, str]:
    # Signed in as GitLab sign-in leaves a browser: a session of ours (the admin refuses her password).
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": url}])
    page = context.new_page()
    page.set_viewport_size(LAPTOP)  # type: ignore[arg-type]
    page.goto(f"{url}/admin/")
    expect(page.locator("h1")).to_have_text("This page is for administrators")
    seen = {"text": page.locator("body").inner_text()}
    screenshot(page, "admin-not-an-admin.png", readme=True)
    page.get_by_role("link", name="Your connections").click()
    seen["followed"] = page.url
    return seen


def test_a_signed_in_non_admin_at_admin_is_pointed_to_connections(live_server, cast, chromium):
    browser = Client()
    browser.force_login(cast["alice"])
    seen = run(chromium, non_admin_at_admin, live_server.url, browser.cookies[settings.SESSION_COOKIE_NAME].value)
    assert "signed in as alice" in seen["text"]
    assert "not authorized" not in seen["text"]  # not Django's stock refusal
    assert seen["followed"].startswith(f"{live_server.url}/connections/")
