"""What a leaked or guessed credential can no longer do at /authorize and /token: no password oracle
(RFC 6749 §5.2), no authorization code at rest (RFC 6819 §5.1.4.1.3), a replayed code ends what it
issued (RFC 6749 §4.1.2), and `iss` on error redirects too (RFC 9207 §2)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from oauth_gateway.models import Application
from tests.e2e.test_oauth_security import authorize_url, pkce, redeem, register, sign_in
from tests.harness import server_rows
from tests.oauth_client import OAUTH_ENV, Browser, bearer_call


@pytest.fixture
def server(start_server: Any) -> Any:
    return start_server(**OAUTH_ENV)


@pytest.mark.django_db
@pytest.mark.urls("tests.oauth_urls")
@pytest.mark.filterwarnings("ignore:No directory at")  # STATIC_ROOT before collectstatic
def test_the_password_grant_answers_alike_for_a_right_and_a_wrong_password() -> None:
    """RFC 6749 §5.2: a grant this server does not serve is unsupported_grant_type before any
    credential is looked at, so /token (open to any origin) tells nobody whether a password is right."""
    User.objects.create_superuser("root", "root@example.test", "the-right-password")
    application = Application.objects.create(
        name="Guesser",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1:59999/callback",
    )
    answers = []
    for password in ("the-right-password", "a-wrong-password"):
        form = {"grant_type": "password", "username": "root", "password": password, "client_id": application.client_id}
        response = Client().post("/token", form, HTTP_ORIGIN="https://evil.example")
        answers.append((response.status_code, response.content, dict(response.headers)))
    assert answers[0] == answers[1]
    status, body, headers = answers[0]
    assert status == 400 and b'"unsupported_grant_type"' in body
    assert headers["Cache-Control"] == "no-store" and headers["Content-Type"] == "application/json"


def test_the_database_never_holds_the_code_the_client_received(server: Any) -> None:
    """RFC 6819 §5.1.4.1.3: the grant row holds the code's SHA-256; the code still redeems once."""
    client, verifier, params = sign_in(server)
    stored = [row[0] for row in server_rows(server.env["DATABASE_URL"], "SELECT code FROM oauth_gateway_grant")]
    assert params["code"] not in stored
    assert hashlib.sha256(params["code"].encode()).hexdigest() in stored
    response = redeem(server, client["client_id"], params["code"], verifier)
    assert response.status_code == 200, response.text


def test_a_replayed_code_revokes_the_tokens_issued_from_it(server: Any) -> None:
    """RFC 6749 §4.1.2: a code used more than once is refused, and the tokens already issued from it
    are revoked (its session ends, through the one revoke path); audited as an attack."""
    client, verifier, params = sign_in(server)
    first = redeem(server, client["client_id"], params["code"], verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert bearer_call(server.url, tokens["access_token"]).status_code == 200

    replay = redeem(server, client["client_id"], params["code"], verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert bearer_call(server.url, tokens["access_token"]).status_code == 401
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": client["client_id"],
    }
    assert httpx.post(f"{server.url}/token", data=refresh).status_code == 400

    database = server.env["DATABASE_URL"]
    sql = (
        "SELECT e.outcome, c.revoked FROM oauth_gateway_auditevent e"
        " JOIN oauth_gateway_gitlabconnection c ON c.id = e.connection_id"
        " JOIN oauth_gateway_application a ON a.id = c.application_id"
        f" WHERE e.kind = 'code.replay_detected' AND a.client_id = '{client['client_id']}'"
    )
    [(outcome, revoked)] = server_rows(database, sql)
    assert outcome == "denied" and revoked is not None


def test_an_error_redirect_carries_iss(server: Any) -> None:
    """RFC 9207 §2: `iss` on every authorization response, an error such as access_denied included."""
    client = register(server)
    params = Browser("alice", allow=False).authorize(authorize_url(server, client["client_id"], pkce()[1]))
    assert params["error"] == "access_denied" and params["iss"] == server.url
