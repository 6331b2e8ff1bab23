"""The sign-in error pages in plain words, in-process (OAuth URLs from tests.oauth_urls): each names
what happened without OAuth's words in the headline, says what to do next, and keeps the technical
code small below for support. The browser side is tests/e2e/test_browser_signin_pages.py."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from oauth_gateway.models import Application, PendingSignIn
from oauth_gateway.services.signin import SESSION_KEY

pytestmark = [pytest.mark.urls("tests.oauth_urls"), pytest.mark.filterwarnings("ignore:No directory at")]
JARGON = re.compile(r"oauth|client_id|invalid_|redirect|authoriz|grant|token|state|pkce", re.IGNORECASE)


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.OAUTH_SESSION_SECRET = "signin-pages-secret-0123456789-abcdefghijk"
    settings.PUBLIC_URL = "https://mcp.example.com"
    settings.GITLAB_URL = "http://127.0.0.1:9"


def page_of(response) -> dict[str, str]:
    page = response.content.decode()
    headline = re.search(r"<h1>(.*?)</h1>", page, re.S)
    support = re.search(r'<p class="muted support">(.*?)</p>', page, re.S)
    assert headline and support, page[:500]
    text = html.unescape(headline.group(1).strip())
    return {"headline": text, "support": re.sub(r"<[^>]+>", "", support.group(1)), "html": page}


@pytest.mark.parametrize(
    ("url", "status", "headline", "code"),
    [
        ("/oauth/signin", 400, "Nothing to sign in to", "no_request"),
        ("/oauth/signin?next=/authorize%3Fclient_id%3Dnobody", 400, "This app isn't known here", "unknown_client"),
        ("/oauth/callback", 400, "This sign-in link is incomplete", "missing_state"),
        ("/oauth/callback?state=never-issued&code=x", 400, "Sign-in didn't finish", "signin_failed"),
        (f"/oauth/device/{uuid.uuid4()}", 404, "This sign-in page has expired", "unknown_signin"),
    ],
)
def test_each_error_says_what_happened_and_what_to_do_next(client: Client, db, url, status, headline, code):
    response = client.get(url)
    assert response.status_code == status
    page = page_of(response)
    assert page["headline"] == headline and not JARGON.search(page["headline"])
    assert f"{code} · HTTP {status}" in page["support"]
    assert 'href="/connections/"' in page["html"]  # somewhere to go from here
    assert "ask whoever runs this server (mcp.example.com)" in page["html"]


def test_a_disabled_client_is_named_as_turned_off_by_an_administrator(client: Client, db):
    app = Application.objects.create(client_id="turned-off", name="Old bot", redirect_uris="http://127.0.0.1/cb")
    Application.objects.filter(pk=app.pk).update(disabled=timezone.now())
    page = page_of(client.get("/oauth/signin?next=/authorize%3Fclient_id%3Dturned-off"))
    assert page["headline"] == "This app has been turned off here"
    assert "An administrator of this server has turned off the app" in page["html"]
    assert "Old bot" not in page["headline"]


def test_a_browser_sign_in_that_fails_offers_to_try_again(client: Client, db, settings):
    settings.ADMIN_DEVICE_LOGIN = False
    response = client.get("/connections/signin?next=/connections/&leg=device")
    page = page_of(response)
    assert response.status_code == 403 and "device_login_off" in page["support"]
    assert 'href="/connections/signin?next=%2Fconnections%2F">Try again</a>' in page["html"]
    assert "Go back to your MCP client" not in page["html"]  # no client started this one


def pending_signin(client: Client, client_id: str, authorize_query: str) -> PendingSignIn:
    """A sign-in at GitLab's redirect leg, bound to this test client's browser session."""
    pending = PendingSignIn.objects.create(
        leg="authorization_code",
        state="gitlab-state-1",
        browser_key="browser-key-1",
        authorize_query=authorize_query,
        client_id=client_id,
        expires=timezone.now() + timedelta(minutes=5),
    )
    session = client.session
    session[SESSION_KEY] = {"id": str(pending.pk), "key": "browser-key-1"}
    session.save()
    return pending


def test_when_gitlab_fails_an_mcp_sign_in_try_again_restarts_the_same_request(client: Client, db):
    query = "response_type=code&client_id=app-1&state=client-state&code_challenge=x&code_challenge_method=S256"
    pending_signin(client, "app-1", query)
    response = client.get("/oauth/callback", {"state": "gitlab-state-1", "error": "server_error"})
    page = page_of(response)
    assert response.status_code == 400 and "server_error · HTTP 400" in page["support"]
    assert f'href="/authorize?{html.escape(query)}">Try again</a>' in page["html"]
    assert "Go back to your MCP client" in page["html"]


def test_when_gitlab_fails_a_browser_sign_in_try_again_signs_in_for_the_same_page(client: Client, db):
    pending_signin(client, "", "/admin/oauth_gateway/auditevent/")
    page = page_of(client.get("/oauth/callback", {"state": "gitlab-state-1", "error": "server_error"}))
    retry = html.escape("/connections/signin?next=%2Fadmin%2Foauth_gateway%2Fauditevent%2F")
    assert f'href="{retry}">Try again</a>' in page["html"]
    assert "Go back to your MCP client" not in page["html"]
