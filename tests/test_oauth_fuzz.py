"""No body or query makes the OAuth endpoints fail with a 5xx: malformed input is the client's error
(RFC 6749 §5.2 invalid_request, RFC 7591 §3.2.2 invalid_client_metadata), never a server error.

In-process (Django's test client, OAuth URLs from tests.oauth_urls) so that a few hundred requests
take seconds. The test client re-raises a view's exception, so a crash fails with its traceback.
Examples are derandomized: every run sends the same cases (a failure is reproducible, never flaky).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from oauth_gateway.models import Application

pytestmark = [
    pytest.mark.urls("tests.oauth_urls"),
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at"),  # STATIC_ROOT before collectstatic
    pytest.mark.filterwarnings("ignore:Returning tuple:DeprecationWarning"),  # django-ninja, on every poll
]

REDIRECT = "http://127.0.0.1:59999/callback"
CLIENT_ID = "fuzz-client"
EXAMPLES = 200  # per endpoint: 7 endpoints, 1,400 cases, about 15 s in all
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4)
)
huge = st.integers(min_value=10_000, max_value=300_000).map(lambda n: "x" * n)
deep = st.integers(min_value=500, max_value=200_000).flatmap(
    lambda n: st.sampled_from(["[" * n + "]" * n, '{"a":' * n + "1" + "}" * n, "[" * n, '{"redirect_uris":' + "[" * n])
)
METADATA_KEYS = [
    "redirect_uris",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "client_name",
    "client_uri",
    "scope",
    "software_id",
]
metadata = st.dictionaries(
    st.sampled_from(METADATA_KEYS), json_values | huge | st.lists(st.text(max_size=80), max_size=3), max_size=5
)
TOKEN_KEYS = [
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "code_verifier",
    "refresh_token",
    "device_code",
    "username",
    "password",
    "scope",
    "resource",
    "token",
    "token_type_hint",
]
GRANTS = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "password"]
form_values = st.text(max_size=60) | huge | st.sampled_from([CLIENT_ID, REDIRECT, *GRANTS, "\x00", "%", "a" * 300])
pairs = st.lists(st.tuples(st.sampled_from(TOKEN_KEYS) | st.text(max_size=10), form_values), max_size=8)
# Most forms name a grant, so that each grant's own parameter checks are reached.
forms = st.builds(
    lambda grant, rest: [("grant_type", grant), *rest] if grant is not None else rest,
    st.none() | st.sampled_from(GRANTS) | st.text(max_size=20),
    pairs,
)
raw_bodies = st.binary(max_size=2000) | deep | json_values.map(json.dumps)
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]


@pytest.fixture
def client(db: Any, settings: Any) -> Client:
    settings.OAUTH_REGISTRATIONS_PER_HOUR = 1_000_000
    Application.objects.get_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "Fuzz",
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": REDIRECT,
        },
    )
    return Client()


def not_a_server_error(response: Any) -> None:
    assert response.status_code < 500, response.content[:500]


def post(client: Client, path: str, body: bytes | str, content_type: str) -> Any:
    return client.post(path, data=body, content_type=content_type)


@FUZZ
@given(body=metadata.map(json.dumps) | raw_bodies | huge, content_type=st.sampled_from(CONTENT_TYPES))
def test_register_never_answers_5xx(client: Client, body: Any, content_type: str) -> None:
    response = post(client, "/register", body, content_type)
    not_a_server_error(response)
    if response.status_code == 400:
        assert response.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


@FUZZ
@given(form=forms, raw=raw_bodies, use_raw=st.booleans(), content_type=st.sampled_from(CONTENT_TYPES))
def test_token_never_answers_5xx(client: Client, form: list, raw: Any, use_raw: bool, content_type: str) -> None:
    body = raw if use_raw else urlencode(form)
    not_a_server_error(post(client, "/token", body, content_type if use_raw else CONTENT_TYPES[1]))


@FUZZ
@given(form=forms, raw=raw_bodies, use_raw=st.booleans(), content_type=st.sampled_from(CONTENT_TYPES))
def test_revoke_never_answers_5xx(client: Client, form: list, raw: Any, use_raw: bool, content_type: str) -> None:
    body = raw if use_raw else urlencode(form)
    not_a_server_error(post(client, "/revoke", body, content_type if use_raw else CONTENT_TYPES[1]))


AUTHORIZE_KEYS = [
    "response_type",
    "client_id",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
    "resource",
    "prompt",
    "approval_prompt",
    "nonce",
    "claims",
    "response_mode",
]
authorize_values = st.text(max_size=60) | st.sampled_from(
    ["code", "token", CLIENT_ID, REDIRECT, "S256", "plain", "login", "create", "gitlab", "http://127.0.0.1:3000/mcp"]
)


@FUZZ
@given(query=st.lists(st.tuples(st.sampled_from(AUTHORIZE_KEYS) | st.text(max_size=10), authorize_values), max_size=9))
def test_authorize_never_answers_5xx(client: Client, query: list) -> None:
    not_a_server_error(client.get(f"/authorize?{urlencode(query)}"))


@FUZZ
@given(pending_id=st.text(max_size=80) | huge | st.uuids().map(str), extra=forms)
def test_oauth_poll_never_answers_5xx(client: Client, pending_id: str, extra: list) -> None:
    not_a_server_error(client.get(f"/oauth/poll?{urlencode([('id', pending_id), *extra])}"))


@FUZZ
@given(form=forms, raw=raw_bodies, use_raw=st.booleans(), content_type=st.sampled_from(CONTENT_TYPES))
def test_oauth_poll_post_never_answers_5xx(
    client: Client, form: list, raw: Any, use_raw: bool, content_type: str
) -> None:
    body = raw if use_raw else urlencode(form)
    not_a_server_error(post(client, "/oauth/poll", body, content_type if use_raw else CONTENT_TYPES[1]))


@FUZZ
@given(form=forms, raw=raw_bodies, use_raw=st.booleans(), content_type=st.sampled_from(CONTENT_TYPES))
def test_device_authorization_never_answers_5xx(
    client: Client, form: list, raw: Any, use_raw: bool, content_type: str
) -> None:
    """RFC 8628 §3.1 (a 404 until the endpoint is routed)."""
    body = raw if use_raw else urlencode(form)
    not_a_server_error(post(client, "/device_authorization", body, content_type if use_raw else CONTENT_TYPES[1]))


def test_a_deeply_nested_registration_body_is_invalid_client_metadata(client: Client) -> None:
    """RFC 7591 §3.2.2: a body Python's JSON parser cannot nest that deep is invalid metadata,
    not a RecursionError and a 500."""
    response = post(client, "/register", "[" * 100_000 + "]" * 100_000, "application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_a_nul_character_in_what_is_audited_is_stored_not_a_server_error(client: Client) -> None:
    """PostgreSQL's text and jsonb hold no NUL: the refused grant_type is recorded with U+FFFD in
    its place, and the client gets its RFC 6749 §5.2 error (found by the fuzz test above)."""
    from oauth_gateway.models import AuditEvent

    response = post(client, "/token", urlencode({"grant_type": "pass\x00word"}), CONTENT_TYPES[1])
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    row = AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_REFUSED).latest("id")
    assert row.detail["grant_type"] == "pass\ufffdword"
