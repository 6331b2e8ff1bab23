"""The sign-in pages a person meets, in chromium: the consent page on a 375 px phone (names this
server and the GitLab host, nothing wider than the screen) and its "not you?" switch; the device-code
page (copy button, expiry, a polite live status, polling that survives a failed poll); and an error
page in plain words with what to do next.

End to end: Daphne in OAuth mode and the GitLab simulator (its cookie says who is signed in there).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser import screenshot
from tests.e2e.test_oauth_client_trust import LONG_HOST
from tests.harness import Sim
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser

PHONE = {"width": 375, "height": 740}
LONG_NAME = "A client with a rather long name for a small screen"


@pytest.fixture
def server(start_server: Any, sim: Sim) -> Any:
    return start_server(**OAUTH_ENV)


def register(server: Any) -> str:
    body = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none", "client_name": LONG_NAME}
    response = httpx.post(f"{server.url}/register", json=body)
    response.raise_for_status()
    return str(response.json()["client_id"])


def authorize_url(server: Any, client_id: str, state: str, redirect_uri: str = CLIENT_REDIRECT) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "scope": "gitlab",
    }
    return f"{server.url}/authorize?{httpx.QueryParams(query)}"


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def as_user(context: BrowserContext, sim_url: str, username: str) -> None:
    context.add_cookies([{"name": "gitlab_sim_user", "value": username, "url": sim_url}])


def consent_then_switch(context: BrowserContext, start: str, sim_url: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    as_user(context, sim_url, "alice")
    page = context.new_page()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    back: list[str] = []  # where the client's redirect URI is called (nothing listens there)
    page.route(f"{CLIENT_REDIRECT}**", lambda route: (back.append(route.request.url), route.fulfill(body="ok")))
    page.goto(start)
    page.get_by_role("button", name="Sign in with GitLab").click()
    expect(page.locator("h1")).to_have_text("Allow access to GitLab as alice?")
    seen["overflow"] = overflow(page)
    seen["hosts"] = (page.locator("#server-host").inner_text(), page.locator("#gitlab-host").inner_text())
    seen["client_id_right"] = page.locator("#client-id").bounding_box()
    screenshot(page, "consent-375.png", readme=True)

    page.get_by_role("button", name="Sign in as someone else").click()
    expect(page.locator("h1")).to_have_text("Sign in with GitLab")  # a fresh sign-in, not alice's consent
    expect(page.locator("#switched")).to_contain_text("You signed out here as alice")
    seen["signin_overflow"] = overflow(page)
    seen["signin_url"] = page.url
    as_user(context, sim_url, "bob")  # the person at the keyboard signs in at GitLab as themselves
    page.get_by_role("button", name="Sign in with GitLab").click()
    expect(page.locator("h1")).to_have_text("Allow access to GitLab as bob?")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{CLIENT_REDIRECT}**")
    seen["back"] = back
    return seen


async def test_consent_fits_a_phone_names_both_hosts_and_not_you_starts_a_fresh_sign_in(server, sim: Sim, chromium):
    client_id = register(server)
    start = authorize_url(server, client_id, "client-state-1")
    seen = await chromium.run(consent_then_switch, start, sim.url)
    assert seen["overflow"] == 0 and seen["signin_overflow"] == 0
    box = seen["client_id_right"]
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    assert seen["hosts"] == (urlsplit(server.url).netloc, urlsplit(sim.url).netloc)
    # The same authorization request, every parameter kept, now answered for bob.
    next_query = parse_qs(urlsplit(parse_qs(urlsplit(seen["signin_url"]).query)["next"][0]).query)
    assert next_query["state"] == ["client-state-1"] and next_query["client_id"] == [client_id]
    [answer] = seen["back"]
    answered = parse_qs(urlsplit(answer).query)
    assert answered["state"] == ["client-state-1"] and answered["code"]
    tokens = httpx.get(f"{sim.url}/_sim/oauth/tokens").json()
    alice_id, bob_id = 1, 2
    assert [t for t in tokens if t["user_id"] == bob_id]
    assert not [t for t in tokens if t["user_id"] == alice_id and not t["expired"]]  # alice's were revoked


def device_page(context: BrowserContext, start: str, sim_url: str, server_url: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    polls: list[str] = []

    def fail_the_first_poll(route: Route) -> None:
        polls.append(route.request.url)
        if len(polls) == 1:
            route.abort("connectionrefused")  # the network drops once
        else:
            route.continue_()

    page = context.new_page()
    page.set_viewport_size({"width": 900, "height": 560})
    page.route("**/oauth/poll?*", fail_the_first_poll)
    page.goto(start)
    page.get_by_role("button", name="Use a code instead").click()
    expect(page.locator("h1")).to_have_text("Enter this code at GitLab")
    code = page.locator("#user-code").inner_text().strip()
    seen["code"] = code
    seen["live"] = page.locator("#status").get_attribute("aria-live")
    seen["expiry"] = page.locator("#expiry").inner_text()
    page.get_by_role("button", name="Copy code").click()
    expect(page.locator("#copied")).to_have_text("Copied.")
    seen["clipboard"] = page.evaluate("navigator.clipboard.readText()")
    expect(page.locator("#status")).to_contain_text("trying again in", timeout=10_000)  # said, not silent
    seen["retrying"] = page.locator("#status").inner_text()
    screenshot(page, "device-retrying.png")
    expect(page.locator("#status")).to_have_text("Waiting for you to approve it in GitLab…", timeout=15_000)
    screenshot(page, "device.png", readme=True)
    httpx.post(f"{sim_url}/_sim/oauth/device", json={"user_code": code, "username": "alice"}).raise_for_status()
    expect(page.locator("h1")).to_have_text("Allow access to GitLab as alice?", timeout=20_000)
    seen["polls"] = len(polls)
    return seen


async def test_the_device_page_copies_shows_expiry_announces_and_keeps_polling_after_a_failure(
    server, sim: Sim, chromium
):
    start = authorize_url(server, register(server), "device-state")
    seen = await chromium.run(device_page, start, sim.url, server.url)
    assert seen["clipboard"] == seen["code"]
    assert seen["live"] == "polite"
    assert seen["expiry"].startswith("This code expires at ") and " UTC (in " in seen["expiry"]
    assert "attempt 2" in seen["retrying"]
    assert seen["polls"] >= 3  # the failed one, then on until approved


def read_error_page(context: BrowserContext, url: str) -> dict[str, Any]:
    page = context.new_page()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto(url)
    seen = {
        "headline": page.locator("h1").inner_text(),
        "steps": page.locator("#next-steps").inner_text(),
        "support": page.locator(".support").inner_text(),
        "overflow": overflow(page),
        "links": [a.get_attribute("href") for a in page.locator("#next-steps a").all()],
    }
    screenshot(page, "error-375.png", readme=True)
    return seen


async def test_an_error_page_says_what_happened_and_what_to_do_without_oauth_words(server, sim: Sim, chromium):
    bad = f"{server.url}/authorize?response_type=code&client_id=nobody-knows-me&redirect_uri=https://x.example/cb"
    seen = await chromium.run(read_error_page, bad)
    assert seen["headline"] == "This app isn't known here"
    for jargon in ("OAuth", "client_id", "invalid_", "redirect", "authorization", "grant", "token"):
        assert jargon.lower() not in seen["headline"].lower()
    assert "Go back to your MCP client" in seen["steps"] and "/connections/" in seen["links"]
    assert "ask whoever runs this server" in seen["steps"]
    assert "unknown_client" in seen["support"] and "HTTP 400" in seen["support"]
    assert seen["overflow"] == 0


def test_without_javascript_the_code_is_plain_text_and_the_pages_name_both_hosts(server, sim: Sim):
    browser = Browser("alice", leg="device", sim_url=sim.url)
    answered = browser.authorize(authorize_url(server, register(server), "plain-state"))
    assert answered["state"] == "plain-state" and answered["code"]
    [device] = [page for page in browser.pages if 'id="user-code"' in page]
    code = re.search(r'<div class="code" id="user-code">([^<]+)</div>', device)
    assert code and code.group(1).strip()  # selectable text, whatever the script does
    assert '<button type="button" id="copy-code" hidden>' in device  # shown by the script only
    assert 'id="status" class="muted" role="status" aria-live="polite"' in device
    assert re.search(r"This code expires at \d\d:\d\d UTC \(in \d+ minutes?\)\.", device)
    [consent] = [page for page in browser.pages if 'value="Authorize"' in page]
    assert f'id="server-host">{urlsplit(server.url).netloc}<' in consent
    assert f'id="gitlab-host">{urlsplit(sim.url).netloc}<' in consent
    switch = re.search(r'<input type="hidden" name="next" value="([^"]+)">', consent)
    assert switch and "state=plain-state" in html.unescape(switch.group(1))


def test_deny_on_the_consent_page_revokes_the_gitlab_tokens_the_sign_in_got(server, sim: Sim):
    browser = Browser("alice", allow=False)
    answered = browser.authorize(authorize_url(server, register(server), "deny-state"))
    assert answered["error"] == "access_denied" and answered["state"] == "deny-state"
    alice_id = 1
    live = [t for t in httpx.get(f"{sim.url}/_sim/oauth/tokens").json() if t["user_id"] == alice_id]
    assert not [t for t in live if not t["expired"]]  # nothing of this sign-in stays usable at GitLab


def consent_overflow(context: BrowserContext, start: str, sim_url: str) -> dict[str, Any]:
    as_user(context, sim_url, "alice")
    page = context.new_page()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto(start)
    page.get_by_role("button", name="Sign in with GitLab").click()
    expect(page.locator("h1")).to_have_text("Allow access to GitLab as alice?")
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))"
    )
    return {"overflow": overflow(page), "widest": widest}


async def test_consent_with_a_long_redirect_host_and_client_id_still_fits_a_phone(server, sim: Sim, chromium):
    body = {"redirect_uris": [f"https://{LONG_HOST}/oauth/callback/{'x' * 80}"], "token_endpoint_auth_method": "none"}
    client = httpx.post(f"{server.url}/register", json={**body, "client_name": "x" * 60}).json()
    start = authorize_url(server, client["client_id"], "long-state", client["redirect_uris"][0])
    seen = await chromium.run(consent_overflow, start, sim.url)
    assert seen["overflow"] == 0 and seen["widest"] <= PHONE["width"], seen


def device_countdown(context: BrowserContext, start: str) -> list[str]:
    context.clock.install()  # the page's timers and Date run on a clock the test moves
    page = context.new_page()
    page.goto(start)
    page.get_by_role("button", name="Use a code instead").click()
    expect(page.locator("h1")).to_have_text("Enter this code at GitLab")
    shown = [page.locator("#expiry").inner_text()]
    page.clock.run_for("04:00")
    shown.append(page.locator("#expiry").inner_text())
    page.clock.run_for("02:00")
    shown.append(page.locator("#expiry").inner_text())
    return shown


async def test_the_device_page_counts_down_to_the_codes_expiry_and_says_when_it_expired(server, sim: Sim, chromium):
    start = authorize_url(server, register(server), "countdown-state")
    first, later, last = await chromium.run(device_countdown, start)
    assert re.search(r"\(in [45] minutes\)\.$", first)  # the simulator's codes live 300 s
    assert re.search(r"\(in (\d+ min )?\d+ s\)\.$", later), later  # under two minutes: to the second
    assert last == "This code has expired. Start again from your client."
