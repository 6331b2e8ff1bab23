"""The bearer check's one query (mcp_bridge/auth.py), compiled once per process: the rows it reads are
exactly what the ORM's values_list() reads for the same token, on this run's database (the suite runs
on SQLite and on PostgreSQL), so a Django upgrade that changes either fails here."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from oauth2_provider.models import set_token_value

from mcp_bridge.auth import TOKEN_FIELDS, Unauthorized, check_bearer, token_row
from oauth_gateway.models import AccessToken, Application, GitLabConnection

pytestmark = pytest.mark.django_db


def signed_in(bearer: str, *, scopes: str = "api read_user", revoked: bool = False) -> GitLabConnection:
    user = User.objects.create(username=f"u-{bearer}")
    application = Application.objects.create(
        name="Claude Code",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1:5555/callback",
    )
    connection = GitLabConnection(user=user, application=application, leg="authorization_code", gitlab_scopes=scopes)
    connection.set_gitlab_tokens(f"glpat-of-{bearer}", "refresh")
    connection.gitlab_expires = timezone.now() + timedelta(hours=2)
    if revoked:
        connection.revoked = timezone.now()
    connection.save()
    access = AccessToken(
        user=user,
        application=application,
        connection=connection,
        scope="gitlab",
        expires=timezone.now() + timedelta(hours=1),
        resource=[settings.MCP_RESOURCE_URL],
    )
    set_token_value(access, bearer)
    access.save()
    return connection


def checksum(bearer: str) -> str:
    return hashlib.sha256(bearer.encode()).hexdigest()


def test_the_prepared_query_reads_what_the_orm_reads() -> None:
    signed_in("first")
    signed_in("second", scopes="read_api", revoked=True)
    for bearer in ("first", "second"):
        orm = AccessToken.objects.filter(token_checksum=checksum(bearer)).values_list(*TOKEN_FIELDS).first()
        assert orm is not None
        assert token_row(checksum(bearer)) == orm
    assert token_row(checksum("nobody")) is None


def test_authenticate_names_the_caller_and_refuses_an_ended_connection() -> None:
    connection = signed_in("alice-token", scopes="read_api read_user")
    caller, expiring = check_bearer("alice-token")
    assert expiring is None  # two hours left on its GitLab token: nothing to refresh
    assert (caller.user_id, caller.connection_id, caller.read_only) == (connection.user_id, connection.pk, True)
    assert caller.gitlab_token == "glpat-of-alice-token" and caller.username == "u-alice-token"
    signed_in("bob-token", revoked=True)
    with pytest.raises(Unauthorized, match="ended"):
        check_bearer("bob-token")
    with pytest.raises(Unauthorized, match="unknown"):
        check_bearer("forged")


@pytest.mark.django_db(transaction=True)  # the checks' thread has its own database connection
def test_checks_waiting_together_are_all_answered_by_the_check_thread() -> None:
    import asyncio

    from mcp_bridge.auth import authenticate, checks

    signed_in("carol-token")
    signed_in("dave-token", revoked=True)

    async def many() -> list[object]:
        bearers = ["carol-token", "dave-token", "forged"] * 10
        return await asyncio.gather(*(authenticate(b) for b in bearers), return_exceptions=True)

    try:
        answers = asyncio.run(many())
    finally:
        checks.stop()  # its database connection, before the test database is dropped
    assert {a.username for a in answers[0::3]} == {"u-carol-token"}  # type: ignore[attr-defined]
    assert all(isinstance(a, Unauthorized) and "ended" in str(a) for a in answers[1::3])
    assert all(isinstance(a, Unauthorized) and "unknown" in str(a) for a in answers[2::3])
