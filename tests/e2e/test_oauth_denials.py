"""RFC 6749 §4.1.2.1: a sign-in that ends at GitLab (the user denied, the code expired) ends at the MCP
client too, on its registered redirect URI with `error`, its `state` and RFC 9207 `iss`, as our
consent page's Deny does. Never on a redirect URI the client did not register."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.test_oauth_device import begin_device_signin
from tests.harness import Sim
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser, form_fields, oauth_mcp


class DenyingBrowser(Browser):
    """A browser whose user presses "Deny" on GitLab's authorization page (or on its device page)."""

    def __init__(self, username: str, **kwargs: object) -> None:
        super().__init__(username, allow=False, **kwargs)  # type: ignore[arg-type]
        self.http.cookies.set("gitlab_sim_deny", "1")
        self.started: list[str] = []

    def authorize(self, url: str) -> dict[str, str]:
        self.started.append(url)
        return super().authorize(url)


@pytest.fixture
def server(start_server, sim: Sim):
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    return start_server(**OAUTH_ENV)


def leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def sent_state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def test_a_denial_at_gitlab_reaches_the_sdk_clients_callback_with_its_state(server):
    browser = DenyingBrowser("alice")
    with pytest.raises(BaseExceptionGroup) as failure:
        async with oauth_mcp(server.url, browser):
            pass
    assert "authorization failed" in " ".join(map(str, leaves(failure.value)))  # the SDK gave up on the code
    answer = browser.redirected[-1]
    assert answer["error"] == "access_denied"
    assert answer["state"] == sent_state(browser.started[-1])
    assert answer["iss"] == server.url
    assert "code" not in answer


async def test_a_denied_device_code_reaches_the_client_with_its_state(server, sim: Sim):
    browser = DenyingBrowser("bob", leg="device", sim_url=sim.url)
    with pytest.raises(BaseExceptionGroup) as failure:
        async with oauth_mcp(server.url, browser):
            pass
    assert "authorization failed" in " ".join(map(str, leaves(failure.value)))  # the SDK gave up on the code
    assert browser.polls[-1]["status"] == "failed"
    answer = browser.redirected[-1]
    assert answer["error"] == "access_denied" and "denied" in answer["error_description"]
    assert answer["state"] == sent_state(browser.started[-1]) and answer["iss"] == server.url


def test_an_expired_device_code_sends_the_page_to_the_client_with_access_denied(server, sim: Sim):
    browser = Browser("alice")
    _, poll = begin_device_signin(server, browser)
    sim.fault("^/oauth/token$", status=400, body={"error": "expired_token"}, times=1)
    time.sleep(1.1)  # the first poll of GitLab happens once the interval has passed
    status = browser.http.get(poll).json()
    assert status["status"] == "failed" and "expired" in status["error"]
    target = urlsplit(status["next"])
    params = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert status["next"].startswith(CLIENT_REDIRECT)
    assert params["error"] == "access_denied" and "expired" in params["error_description"]
    assert params["state"] == "s" and params["iss"] == server.url
    assert browser.http.get(poll).json()["next"] == status["next"]  # a later poll says the same


def test_a_redirect_uri_the_client_did_not_register_gets_the_error_page(server):
    """The /authorize query kept for after the sign-in comes from a form field: a forged one must not
    turn a denial into an open redirect."""
    client = httpx.post(
        f"{server.url}/register", json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
    ).json()
    forged = httpx.QueryParams(
        response_type="code",
        client_id=client["client_id"],
        redirect_uri="https://evil.example/callback",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
        state="s",
    )
    browser = DenyingBrowser("alice")
    signin = browser.http.get(f"{server.url}/oauth/signin", params={"next": f"/authorize?{forged}"})
    to_gitlab = browser.http.post(
        str(signin.url), data={**form_fields(signin.text), "leg": "authorization_code"}
    ).headers["location"]
    callback = browser.http.get(to_gitlab).headers["location"]
    assert "error=access_denied" in callback
    page = browser.http.get(callback)
    assert page.status_code == 400 and "denied" in page.text
    assert "evil.example" not in page.headers.get("location", "")


def test_a_browser_sign_in_denied_at_gitlab_keeps_its_page(server):
    """A sign-in to /connections/ has no client to go back to: the page says what happened."""
    browser = DenyingBrowser("alice")
    to_gitlab = browser.http.get(f"{server.url}/connections/signin", params={"next": "/connections/"})
    callback = browser.http.get(to_gitlab.headers["location"]).headers["location"]
    page = browser.http.get(callback)
    assert page.status_code == 400 and "denied" in page.text
