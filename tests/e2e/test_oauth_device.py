"""The device leg's rules (RFC 8628 §3.5): when it is chosen, slow_down, expiry."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Sim
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser, form_fields


def begin_device_signin(server, browser: Browser, *, with_redirect_uri: bool = True) -> tuple[httpx.Response, str]:
    """Register a client, open its /authorize and choose "use a code instead"; the device page and
    its poll URL."""
    client = httpx.post(
        f"{server.url}/register", json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
    ).json()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "state": "s",
    }
    if with_redirect_uri:
        query["redirect_uri"] = CLIENT_REDIRECT
    response = browser.http.get(f"{server.url}/authorize?{httpx.QueryParams(query)}")
    signin = browser.http.get(httpx.URL(server.url).join(response.headers["location"]))
    page = browser.http.post(str(signin.url), data={**form_fields(signin.text), "leg": "device"})
    page = browser.http.get(httpx.URL(server.url).join(page.headers["location"]))
    poll = str(httpx.URL(server.url).join(f"/oauth/poll?id={page.url.path.rsplit('/', 1)[-1]}"))
    return signin, poll


@pytest.fixture
def server(start_server, sim: Sim):
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    return start_server(**OAUTH_ENV)


def test_without_a_redirect_uri_only_the_code_is_offered(server):
    signin, _ = begin_device_signin(server, Browser("alice"), with_redirect_uri=False)
    assert 'value="device"' in signin.text and 'value="authorization_code"' not in signin.text


def test_gitlab_oauth_flow_device_offers_only_the_code(start_server, sim: Sim):
    server = start_server(**OAUTH_ENV, GITLAB_OAUTH_FLOW="device")
    signin, _ = begin_device_signin(server, Browser("alice"))
    assert 'value="authorization_code"' not in signin.text


def test_slow_down_adds_five_seconds_to_the_interval(server, sim: Sim):
    import time

    browser = Browser("alice")
    _, poll = begin_device_signin(server, browser)
    sim.fault("^/oauth/token$", status=400, body={"error": "slow_down"}, times=1)
    time.sleep(1.1)  # the first poll of GitLab happens once the interval has passed
    status = browser.http.get(poll).json()
    assert status == {"status": "pending", "interval": 6}


def test_an_expired_device_code_fails_the_sign_in(server, sim: Sim):
    import time

    browser = Browser("alice")
    _, poll = begin_device_signin(server, browser)
    sim.fault("^/oauth/token$", status=400, body={"error": "expired_token"}, times=1)
    time.sleep(1.1)
    status = browser.http.get(poll).json()
    assert status["status"] == "failed" and "expired" in status["error"]


def test_another_browser_cannot_poll_a_sign_in(server):
    _, poll = begin_device_signin(server, Browser("alice"))
    assert httpx.get(poll).status_code == 403
