"""What OAuth mode refuses (RFC 6749 §10, RFC 7636, RFC 9700): each with the right error."""

from __future__ import annotations

import base64
import hashlib
import secrets

import httpx
import pytest

from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser


@pytest.fixture
def server(start_server):
    return start_server(**OAUTH_ENV)


def register(server, redirect_uri: str = CLIENT_REDIRECT) -> dict:
    body = {"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none", "client_name": "Sec"}
    return httpx.post(f"{server.url}/register", json=body).json()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize_url(server, client_id: str, challenge: str, **extra: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st4te",
        **extra,
    }
    return f"{server.url}/authorize?{httpx.QueryParams(query)}"


def sign_in(server, username: str = "alice") -> tuple[dict, str, dict]:
    """A full sign-in by hand: the client, the PKCE verifier and the redirect's parameters."""
    client = register(server)
    verifier, challenge = pkce()
    params = Browser(username).authorize(authorize_url(server, client["client_id"], challenge))
    return client, verifier, params


def redeem(server, client_id: str, code: str, verifier: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CLIENT_REDIRECT,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    return httpx.post(f"{server.url}/token", data=form)


def test_a_code_works_once_and_its_replay_is_refused(server):
    client, verifier, params = sign_in(server)
    assert params["state"] == "st4te" and params["iss"] == server.url  # RFC 9207
    first = redeem(server, client["client_id"], params["code"], verifier)
    assert first.status_code == 200, first.text
    assert "gloas-" not in first.text  # the GitLab token never leaves the server
    replay = redeem(server, client["client_id"], params["code"], verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(server):
    client, _, params = sign_in(server)
    response = redeem(server, client["client_id"], params["code"], "x" * 50)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_cannot_be_redeemed_by_another_client(server):
    client, verifier, params = sign_in(server)
    other = register(server)
    response = redeem(server, other["client_id"], params["code"], verifier)
    assert response.status_code in (400, 401) and response.json()["error"] in ("invalid_grant", "invalid_client")
    assert redeem(server, client["client_id"], params["code"], verifier).status_code in (200, 400)


def test_plain_pkce_is_refused_before_sign_in(server):
    client = register(server)
    url = authorize_url(server, client["client_id"], "plain-challenge-" + "x" * 40, code_challenge_method="plain")
    response = httpx.get(url)
    assert response.status_code == 302
    assert response.headers["location"].startswith(CLIENT_REDIRECT)
    assert "error=invalid_request" in response.headers["location"]


def test_a_request_without_pkce_is_refused(server):
    client = register(server)
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CLIENT_REDIRECT, "state": "s"}
    response = httpx.get(f"{server.url}/authorize?{httpx.QueryParams(query)}")
    assert response.status_code == 302 and "error=invalid_request" in response.headers["location"]


def test_an_unknown_client_gets_an_error_page_not_a_redirect(server):
    response = httpx.get(authorize_url(server, "no-such-client", pkce()[1]))
    assert response.status_code == 400
    assert "location" not in response.headers


def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(server):
    client = register(server)
    url = authorize_url(server, client["client_id"], pkce()[1]).replace(
        httpx.QueryParams({"r": CLIENT_REDIRECT})["r"].replace(":", "%3A").replace("/", "%2F"),
        "https%3A%2F%2Fevil.example%2Fsteal",
    )
    assert "evil.example" in url
    response = httpx.get(url)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_a_foreign_resource_is_refused(server):
    client = register(server)
    response = httpx.get(authorize_url(server, client["client_id"], pkce()[1], resource="https://other.example/mcp"))
    assert response.status_code == 302  # RFC 8707 §2: to the client (tests/e2e/test_oauth_audience.py)
    assert httpx.URL(response.headers["location"]).params["error"] == "invalid_target"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/authorize?client_id=x", "//evil.example/authorize?client_id=x", "/admin/"]
)
def test_the_sign_in_page_refuses_open_redirects(server, next_url):
    response = httpx.get(f"{server.url}/oauth/signin", params={"next": next_url})
    assert response.status_code == 400
    assert "location" not in response.headers


def test_the_callback_refuses_a_missing_state(server):
    response = httpx.get(f"{server.url}/oauth/callback", params={"code": "abc"})
    assert response.status_code == 400


def test_the_callback_refuses_a_replayed_gitlab_state(server):
    client = register(server)
    browser = Browser("alice")
    # Walk to GitLab's redirect back to us, keep its URL, then let the browser finish.
    response = browser.http.get(authorize_url(server, client["client_id"], pkce()[1]))
    response = browser.http.get(httpx.URL(server.url).join(response.headers["location"]))
    fields = {k: v for k, v in _hidden(response.text).items()}
    response = browser.http.post(str(response.url), data={**fields, "leg": "authorization_code"})
    response = browser.http.get(response.headers["location"])  # the simulated GitLab
    callback = response.headers["location"]
    assert browser.http.get(callback).status_code == 302  # first use: on to consent
    replay = browser.http.get(callback)
    assert replay.status_code == 400 and "already used" in replay.text


def test_the_consent_form_needs_its_csrf_token(server):
    client = register(server)
    browser = Browser("alice")
    url = authorize_url(server, client["client_id"], pkce()[1])
    response = browser.http.get(url)
    response = browser.http.get(httpx.URL(server.url).join(response.headers["location"]))
    fields = _hidden(response.text)
    response = browser.http.post(str(response.url), data={**fields, "leg": "authorization_code"})
    response = browser.http.get(response.headers["location"])
    response = browser.http.get(response.headers["location"])
    consent = browser.http.get(httpx.URL(server.url).join(response.headers["location"]))
    fields = _hidden(consent.text)
    fields.pop("csrfmiddlewaretoken")
    forged = browser.http.post(f"{server.url}/authorize", data={**fields, "allow": "Authorize"})
    assert forged.status_code == 403


def test_denying_consent_sends_access_denied_to_the_client(server):
    client = register(server)
    params = Browser("alice", allow=False).authorize(authorize_url(server, client["client_id"], pkce()[1]))
    assert params["error"] == "access_denied" and params["state"] == "st4te"


def _hidden(page: str) -> dict[str, str]:
    from tests.oauth_client import form_fields

    return form_fields(page)
