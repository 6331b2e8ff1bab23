"""Telling clients apart: unverified self-registered clients on the sign-in and consent pages, the
redirect host allowlist, and Client ID Metadata Documents under /register's rules (off by default)."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from django.core.cache import cache
from django.urls import clear_url_caches
from django.utils import timezone
from oauth2_provider.cimd import CIMDError, SafeMetadataFetcher

from oauth_gateway.cimd import RegistrationPolicy, check_document
from oauth_gateway.models import Application, AuditEvent
from oauth_gateway.redirects import redirect_uri_problem
from oauth_gateway.views.signin import redirect_target
from tests.e2e.test_oauth_security import authorize_url, pkce
from tests.oauth_client import CLIENT_REDIRECT, OAUTH_ENV, Browser, form_fields

pytestmark = pytest.mark.filterwarnings("ignore:No directory at")  # STATIC_ROOT before collectstatic

LONG_HOST = "claude.ai.login.session-0123456789abcdef0123456789abcdef0123456789abcdef.evil.example"
CIMD_ID = "https://clients.example/mcp/client.json"


@pytest.fixture
def server(start_server):
    return start_server(**OAUTH_ENV)


def register(server, name: str, redirect_uri: str) -> httpx.Response:
    body = {"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none", "client_name": name}
    return httpx.post(f"{server.url}/register", json=body)


def pages_until_consent(server, client_id: str, redirect_uri: str) -> tuple[str, str]:
    """The sign-in page and the consent page a user sees for this client (nothing is allowed)."""
    browser = Browser("alice")
    _, challenge = pkce()
    response, signin = browser.http.get(authorize_url(server, client_id, challenge, redirect_uri=redirect_uri)), ""
    for _ in range(20):
        if location := response.headers.get("location"):
            response = browser.http.get(urljoin(str(response.url), location))
        elif 'name="leg"' in response.text:
            signin = response.text
            response = browser.http.post(
                str(response.url), data={**form_fields(response.text), "leg": "authorization_code"}
            )
        else:
            return signin, response.text
    raise AssertionError("no consent page")


def test_consent_names_a_self_registered_client_unverified_and_shows_its_whole_host(server):
    # Anyone can register "Claude": the host that gets the code is the headline, never cut short.
    client = register(server, "Claude", f"https://{LONG_HOST}/oauth/callback/{'x' * 80}").json()
    signin, consent = pages_until_consent(server, client["client_id"], client["redirect_uris"][0])
    for page in (signin, consent):
        assert "unverified" in page
        assert f'<strong class="host">{LONG_HOST}</strong>' in page
    assert 'value="Authorize"' in consent


def test_a_client_the_admin_verified_is_not_called_unverified(server, database_url):
    from tests.harness import server_rows

    client = register(server, "Team tool", CLIENT_REDIRECT).json()
    server_rows(
        database_url,
        f"UPDATE oauth_gateway_application SET verified = CURRENT_TIMESTAMP WHERE client_id = '{client['client_id']}'",
    )
    _, consent = pages_until_consent(server, client["client_id"], CLIENT_REDIRECT)
    assert "Team tool" in consent and "unverified" not in consent
    assert '<strong class="host">127.0.0.1:59999</strong>' in consent


def test_the_redirect_host_allowlist_refuses_other_hosts_at_register(start_server):
    # RFC 7591 §3.2.2: invalid_redirect_uri.
    server = start_server(**OAUTH_ENV, OAUTH_ALLOWED_REDIRECT_HOSTS="claude.ai,127.0.0.1")
    refused = register(server, "Claude", "https://evil.example/cb")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_redirect_uri"
    assert "OAUTH_ALLOWED_REDIRECT_HOSTS" in refused.json()["error_description"]
    assert register(server, "Claude", "https://claude.ai/api/mcp/auth_callback").status_code == 201
    assert register(server, "CLI", CLIENT_REDIRECT).status_code == 201


def test_cimd_is_off_by_default_and_not_advertised(server):
    meta = httpx.get(f"{server.url}/.well-known/oauth-authorization-server").json()
    assert "client_id_metadata_document_supported" not in meta


def test_cimd_is_advertised_when_turned_on(start_server):
    server = start_server(**OAUTH_ENV, OAUTH_CIMD_ENABLED="true")
    meta = httpx.get(f"{server.url}/.well-known/oauth-authorization-server").json()
    assert meta["client_id_metadata_document_supported"] is True


def test_the_consent_display_keeps_the_host_and_shortens_the_path():
    target = redirect_target(f"https://{LONG_HOST}:8443/{'p' * 100}?q=1")
    assert target["host"] == f"{LONG_HOST}:8443"
    assert len(target["rest"]) == 40 and target["rest"].endswith("…")


# --- CIMD, in-process: the document fetcher is replaced (its loopback block prevents a live test) ----
@pytest.fixture
def cimd(settings, monkeypatch, db) -> Any:
    """OAuth and CIMD on in this process; `cimd(document)` sets what the client id URL serves."""
    settings.OAUTH_ENABLED = settings.OAUTH_CIMD_ENABLED = True
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CIMD_ENABLED": True}
    settings.OAUTH_SESSION_SECRET = "cimd-tests-secret-0123456789-abcdefghijk"
    import config.urls

    importlib.reload(config.urls)
    clear_url_caches()
    cache.clear()  # the toolkit backs off a failed document in the cache
    served: dict[str, Any] = {}
    monkeypatch.setattr(SafeMetadataFetcher, "fetch", lambda self, client_id: (served["document"], 300))

    def serve(**document: Any) -> None:
        served["document"] = {"client_id": CIMD_ID, "client_name": "Doc client", **document}

    yield serve
    settings.OAUTH_ENABLED = False
    importlib.reload(config.urls)
    clear_url_caches()


def cimd_authorize(client: Any, redirect_uri: str) -> Any:
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": CIMD_ID,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
    }
    return client.get("/authorize", query, REMOTE_ADDR="203.0.113.9")


def test_a_new_cimd_clients_first_authorize_works_and_is_audited_as_a_registration(cimd, client):
    cimd(redirect_uris=["https://clients.example/cb"])
    response = cimd_authorize(client, "https://clients.example/cb")
    assert response.status_code == 302 and response["Location"].startswith("/oauth/signin?")
    app = Application.objects.get(client_id=CIMD_ID)
    assert app.registration_ip == "203.0.113.9" and app.is_unverified()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CLIENT_REGISTERED, application=app)
    assert event.ip == "203.0.113.9" and event.detail["source"] == "cimd"


def test_a_cimd_document_with_a_plain_http_redirect_is_refused_like_register(cimd, client):
    cimd(redirect_uris=["http://evil.example/cb"])
    response = cimd_authorize(client, "http://evil.example/cb")
    assert response.status_code == 400 and "evil.example" not in response.get("Location", "")
    assert not Application.objects.filter(client_id=CIMD_ID).exists()
    with pytest.raises(CIMDError):
        check_document({"redirect_uris": ["https://ok.example/cb", "http://evil.example/cb"]})


def test_cimd_registrations_share_the_per_address_and_host_limit_and_have_one_per_document_host(cimd, settings):
    settings.OAUTH_REGISTRATIONS_PER_HOUR = 2
    policy, request = RegistrationPolicy(), type("R", (), {"headers": {"REMOTE_ADDR": "203.0.113.9"}})()
    assert policy.has_permission(request, CIMD_ID)
    for n in range(2):
        Application.objects.create(
            client_id=f"dcr-{n}",
            redirect_uris="https://clients.example/cb",
            registration_ip="203.0.113.9",
            registration_source="dcr",
        )
    assert not policy.has_permission(request, CIMD_ID)  # this address registered enough for that host
    assert policy.has_permission(request, "https://elsewhere.example/c.json")  # another host: its own count
    other = type("R", (), {"headers": {"REMOTE_ADDR": "198.51.100.7"}})()
    for n in range(2):
        Application.objects.create(client_id=f"https://clients.example/{n}.json", registration_source="cimd")
    assert not policy.has_permission(other, CIMD_ID)  # that document host has had its share
    Application.objects.update(created=timezone.now() - timedelta(hours=2))
    assert policy.has_permission(other, CIMD_ID)


def test_cimd_host_allowlist_refuses_documents_elsewhere(cimd, settings):
    settings.OAUTH_CIMD_ALLOWED_HOSTS = [".trusted.example"]
    request = type("R", (), {"headers": {"REMOTE_ADDR": "203.0.113.9"}})()
    assert not RegistrationPolicy().has_permission(request, CIMD_ID)
    assert RegistrationPolicy().has_permission(request, "https://apps.trusted.example/c.json")


def test_admin_marks_a_client_verified_and_it_is_audited(admin_client, db):
    app = Application.objects.create(client_id="c1", name="Claude", registration_source="dcr")
    assert app.is_unverified()
    url = "/admin/oauth_gateway/application/"
    form = {"action": "verify_clients", "_selected_action": [app.pk]}
    asked = admin_client.post(url, form)  # the admin is asked first, and nothing changes yet
    assert asked.context["question"] == "Mark 1 client verified?"
    assert Application.objects.get(pk=app.pk).verified is None
    admin_client.post(url, {**form, "confirmed": "yes"})
    app.refresh_from_db()
    assert app.verified is not None and not app.is_unverified()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CLIENT_VERIFIED, application=app).exists()
    assert not Application(registration_source="manual").is_unverified()  # made by an admin


def test_redirect_rules_with_an_allowlist(settings):
    settings.OAUTH_ALLOWED_REDIRECT_HOSTS = ["claude.ai", ".example.com"]
    assert redirect_uri_problem("https://claude.ai/cb") is None
    assert redirect_uri_problem("https://a.example.com/cb") is None
    assert redirect_uri_problem("https://claude.ai.evil.example/cb")
