"""Headless sign-in in the reference's shape: /authorize asked for JSON, then /oauth/poll, then the code
with PKCE; and the token endpoint's errors (RFC 6749 §5.2). Against real daphne and the simulator;
the RFC 8628 device flow is in test_oauth_headless.py.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

import httpx
import pytest

from tests.e2e.test_oauth_headless import approve, plain_http_on_loopback, register_cli, server
from tests.harness import Sim
from tests.oauth_client import bearer_call

__all__ = ["plain_http_on_loopback", "server"]  # fixtures shared with test_oauth_headless.py


# --- the reference's shape: /authorize asked for JSON, then /oauth/poll ---------------------------
def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_reference_shape_authorize_json_then_poll_then_code_with_pkce(server, sim: Sim):
    client_id = register_cli(server)
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "cli-state",
    }
    started = httpx.get(f"{server.url}/authorize", params=query, headers={"accept": "application/json"})
    assert started.status_code == 200, started.text
    data = started.json()
    assert {"user_code", "verification_uri", "interval", "expires_in", "device_code", "poll_uri"} <= set(data)
    time.sleep(1.1)
    pending = httpx.post(data["poll_uri"], data={"device_code": data["device_code"]}).json()
    assert pending["status"] == "pending" and pending["error"] == "authorization_pending"
    approve(sim, data["user_code"], "alice")
    time.sleep(1.1)
    done = httpx.post(data["poll_uri"], json={"device_code": data["device_code"]}).json()
    assert done["status"] == "complete" and done["state"] == "cli-state" and done["iss"] == server.url
    again = httpx.post(data["poll_uri"], data={"device_code": data["device_code"]})
    assert again.status_code == 404  # the code is given once
    form = {"grant_type": "authorization_code", "code": done["code"], "client_id": client_id, "code_verifier": "x" * 50}
    assert httpx.post(f"{server.url}/token", data=form).json()["error"] == "invalid_grant"  # PKCE holds
    # (a wrong verifier spends the code, RFC 6749 §4.1.2); a fresh sign-in with the right one:
    tokens = _reference_sign_in(server, sim, client_id)
    assert bearer_call(server.url, tokens["access_token"]).status_code == 200


def _reference_sign_in(server, sim: Sim, client_id: str) -> dict:
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    data = httpx.get(f"{server.url}/authorize", params=query, headers={"accept": "application/json"}).json()
    approve(sim, data["user_code"])
    time.sleep(1.1)
    done = httpx.get(data["poll_uri"], params={"device_code": data["device_code"]}).json()
    form = {"grant_type": "authorization_code", "code": done["code"], "client_id": client_id, "code_verifier": verifier}
    response = httpx.post(f"{server.url}/token", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_reference_shape_denied_at_gitlab(server, sim: Sim):
    client_id = register_cli(server)
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    data = httpx.get(f"{server.url}/authorize", params=query, headers={"accept": "application/json"}).json()
    approve(sim, data["user_code"], deny=True)
    time.sleep(1.1)
    denied = httpx.post(data["poll_uri"], data={"device_code": data["device_code"]})
    assert denied.status_code == 403 and denied.json() == {"status": "denied", "error": "access_denied"}


def test_reference_shape_needs_pkce_and_a_browser_still_gets_pages(server):
    client_id = register_cli(server)
    query = {"response_type": "code", "client_id": client_id}
    refused = httpx.get(f"{server.url}/authorize", params=query, headers={"accept": "application/json"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    browser = httpx.get(f"{server.url}/authorize", params=query, headers={"accept": "text/html"})
    assert "application/json" not in browser.headers.get("content-type", "")


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"redirect_uri": "http://127.0.0.1:59999/callback/other"}, 400, "invalid_grant"),
        ({"code_verifier": None}, 400, "invalid_grant"),
        ({"code_verifier": "x" * 50}, 400, "invalid_grant"),
        ({"code": "unknown-code"}, 400, "invalid_grant"),
        ({"client_id": "nobody"}, 401, "invalid_client"),
    ],
)
def test_rfc6749_5_2_token_errors_name_the_right_code(server, change, status, error):
    from tests.e2e.test_oauth_security import authorize_url, register
    from tests.oauth_client import CLIENT_REDIRECT, Browser

    client = register(server)
    verifier, challenge = pkce()
    params = Browser("alice").authorize(authorize_url(server, client["client_id"], challenge))
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "client_id": client["client_id"],
        "code_verifier": verifier,
        "redirect_uri": CLIENT_REDIRECT,
        **change,
    }
    response = httpx.post(f"{server.url}/token", data={k: v for k, v in form.items() if v is not None})
    assert (response.status_code, response.json()["error"]) == (status, error)
