"""The GitLab simulator as a person meets it (README, "Try it against the GitLab simulator"), driven
in chromium with no test cookie and no /_sim/ hook: the sign-in page's user picker, GitLab's
authorize page, and the device page where a person enters the code and approves or denies.
Each flow goes through this server's own GitLab sign-in, end to end."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import screenshot
from tests.harness import Sim
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV


@pytest.fixture
def server(start_server: Any, sim: Sim) -> Any:
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    return start_server(**OAUTH_ENV)


def pick_user(page: Page, name: str) -> None:
    expect(page.locator("h1")).to_have_text("Sign in to GitLab")
    page.get_by_role("button", name=name).click()


def connections_as_picked_user(context: BrowserContext, server_url: str, sim_url: str) -> None:
    page = context.new_page()
    page.goto(f"{server_url}/connections/")  # not signed in here, nor at GitLab
    assert page.url.startswith(f"{sim_url}/users/sign_in?"), page.url
    screenshot(page, "sim-sign-in.png")
    pick_user(page, "Bob Builder")
    expect(page.locator("h1")).to_have_text("Authorize GitLab MCP to use your account?")
    expect(page.locator("header")).to_contain_text("@bob")
    screenshot(page, "sim-authorize.png")
    page.get_by_role("button", name="Authorize GitLab MCP").click()
    expect(page).to_have_url(f"{server_url}/connections/")
    expect(page.locator("h1")).to_have_text("Clients connected to GitLab as bob")


def connections_denied(context: BrowserContext, server_url: str, sim_url: str) -> None:
    page = context.new_page()
    page.goto(f"{server_url}/connections/")
    pick_user(page, "Alice Liddell")
    page.get_by_role("button", name="Deny").click()
    assert page.url.startswith(server_url), page.url  # GitLab sent the browser back to our server
    expect(page.locator("body")).to_contain_text("denied", ignore_case=True)
    expect(page.locator("h1")).not_to_have_text("Clients connected to GitLab as alice")


def register_client(server_url: str) -> str:
    body = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none", "client_name": "Sim page test"}
    return str(httpx.post(f"{server_url}/register", json=body).json()["client_id"])


def authorize_url(server_url: str, client_id: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "state": "sim-pages-state",
    }
    return f"{server_url}/authorize?{httpx.QueryParams(query)}"


def device_sign_in(
    context: BrowserContext, server_url: str, sim_url: str, client_id: str, approve: bool
) -> dict[str, str]:
    """The client's /authorize → "Use a code instead" → our code page → its link to GitLab's device
    page → pick a user → enter the code → Authorize or Deny; then our page moves on by itself.
    Returns the query the client's redirect URI received."""
    page = context.new_page()
    page.goto(authorize_url(server_url, client_id))
    page.get_by_role("button", name="Use a code instead").click()
    code = page.locator("#user-code").inner_text().strip()
    link = page.locator(f'a[href^="{sim_url}/oauth/device"]').first
    with context.expect_page() as opened:
        link.click()
    gitlab = opened.value
    pick_user(gitlab, "Alice Liddell")
    field = gitlab.get_by_label("Enter the code shown on your device")
    expect(field).to_have_value(code)  # verification_uri_complete fills it in
    field.fill(code.lower())  # a person may type it in lower case
    screenshot(gitlab, "sim-device-code.png")
    gitlab.get_by_role("button", name="Continue").click()
    expect(gitlab.locator("h1")).to_have_text("Authorize GitLab MCP to use your account?")
    screenshot(gitlab, "sim-device-confirm.png")
    # Nothing listens on the client's redirect URI: the request the browser makes there is the answer.
    with page.expect_request(lambda request: request.url.startswith(f"{CLIENT_REDIRECT}?")) as landed:
        gitlab.get_by_role("button", name="Authorize" if approve else "Deny", exact=True).click()
        expect(gitlab.get_by_role("status")).to_contain_text("Device authorized" if approve else "Access denied")
        if approve:  # our code page saw GitLab's answer and moved on to our consent page
            page.locator("button[name=allow]").click()
    return {k: v[0] for k, v in parse_qs(urlsplit(landed.value.url).query).items()}


async def test_a_person_picks_a_user_at_gitlab_and_is_signed_in_here_as_that_user(server, sim: Sim, chromium):
    await chromium.run(connections_as_picked_user, server.url, sim.url)


async def test_deny_on_gitlabs_authorize_page_signs_nobody_in(server, sim: Sim, chromium):
    await chromium.run(connections_denied, server.url, sim.url)


async def test_a_person_approves_a_device_code_at_gitlab_and_the_client_gets_its_code(server, sim: Sim, chromium):
    answer = await chromium.run(device_sign_in, server.url, sim.url, register_client(server.url), True)
    assert answer["state"] == "sim-pages-state" and answer["code"] and "error" not in answer


async def test_a_person_denies_a_device_code_at_gitlab_and_the_client_hears_access_denied(server, sim: Sim, chromium):
    answer = await chromium.run(device_sign_in, server.url, sim.url, register_client(server.url), False)
    assert answer["error"] == "access_denied" and answer["state"] == "sim-pages-state" and "code" not in answer


def test_a_wrong_or_used_code_is_refused_on_the_device_page(sim: Sim):
    started = httpx.post(f"{sim.url}/oauth/authorize_device", data={"client_id": "gitlab-mcp-public"}).json()
    with httpx.Client(base_url=sim.url) as http:
        http.post("/users/sign_in", data={"username": "carol", "redirect_to": "/"})
        assert "_gitlab_session" not in http.cookies  # an unknown user signs nobody in
        http.post("/users/sign_in", data={"username": "charlie", "redirect_to": "//evil.example/"})
        assert http.get("/oauth/device").status_code == 200
        wrong = http.post("/oauth/device", data={"user_code": "NOPE1234"})
        assert wrong.status_code == 422 and "incorrect or has expired" in wrong.text
        http.post("/oauth/device/confirm", data={"user_code": started["user_code"], "decision": "authorize"})
        again = http.post("/oauth/device", data={"user_code": started["user_code"]})
        assert again.status_code == 422  # a code is decided once
    token = httpx.post(
        f"{sim.url}/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": "gitlab-mcp-public",
            "device_code": started["device_code"],
        },
    ).json()
    assert token["access_token"].startswith("gloas-")
    me = httpx.get(f"{sim.url}/api/v4/user", headers={"authorization": f"Bearer {token['access_token']}"}).json()
    assert me["username"] == "charlie"


def test_sign_out_forgets_the_person_and_the_test_cookie(sim: Sim):
    with httpx.Client(base_url=sim.url) as http:
        http.post("/users/sign_in", data={"username": "bob", "redirect_to": "/"})
        http.cookies.set("gitlab_sim_user", "alice", domain="127.0.0.1")  # as a browser holds it
        assert http.get("/oauth/device").status_code == 200
        out = http.get("/users/sign_out", headers={"referer": f"{sim.url}/oauth/device?user_code=AB12"})
        assert out.status_code == 302  # to sign in again, then back to the page the link was on
        assert out.headers["location"] == "/users/sign_in?redirect_to=%2Foauth%2Fdevice%3Fuser_code%3DAB12"
        assert not http.cookies.get("_gitlab_session") and not http.cookies.get("gitlab_sim_user")
        assert http.get("/oauth/device").headers["location"].startswith("/users/sign_in?")
        assert http.get("/").headers["location"] == "/users/sign_in"
        http.post("/users/sign_in", data={"username": "charlie"})  # no destination: GitLab's home
        home = http.get("/")
        assert home.status_code == 200 and "Welcome, Charlie Day" in home.text and 'href="/oauth/device"' in home.text


def test_names_on_the_pages_are_escaped(sim: Sim):
    page = httpx.get(f"{sim.url}/users/sign_in", params={"redirect_to": '/"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text


def test_sign_in_never_redirects_off_the_site(sim: Sim):
    answer = httpx.post(f"{sim.url}/users/sign_in", data={"username": "bob", "redirect_to": "//evil.example/x"})
    assert answer.status_code == 302 and answer.headers["location"] == "/"
