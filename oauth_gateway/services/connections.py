"""Connections (GitLabConnection): made at consent, kept fresh, ended in one place.

`connection_revoke` is the one revoke path: the admin, the self-service page, the revoke command,
refresh-token reuse detection and RFC 7592 client management all end here (/revoke, RFC 7009, only
deletes the one token a client hands back); `user_revoke_all`,
`application_connections_end` (and through it services.clients) end many connections through it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from oauth_gateway import gitlab_oauth
from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import (
    AccessToken,
    Application,
    AuditEvent,
    DecryptionFailed,
    GitLabConnection,
    PendingSignIn,
    RefreshToken,
)
from oauth_gateway.services.audit import audit, client_ip
from oauth_gateway.services.signin import pending_tokens

log = logging.getLogger(__name__)


class ConnectionEnded(Exception):
    """The connection is revoked, or GitLab no longer honours its tokens: the client must sign in again."""


def connection_create(*, request: HttpRequest, pending: PendingSignIn, application: Application) -> GitLabConnection:
    """The user consented: a new connection holding the GitLab tokens of this sign-in."""
    tokens = pending_tokens(pending)
    assert pending.user is not None
    connection = GitLabConnection(
        user=pending.user,
        application=application,
        leg=pending.leg,
        gitlab_scopes=tokens.scope,
        gitlab_expires=_expiry(tokens.expires_in),
        ip=pending.ip,
        user_agent=pending.user_agent,
    )
    connection.set_gitlab_tokens(tokens.access_token, tokens.refresh_token)
    with transaction.atomic():
        connection.save()
        pending.delete()
    audit(
        AuditEvent.Kind.CONSENT_GIVEN,
        user_id=connection.user_id,
        application_id=application.pk,
        connection_id=connection.pk,
        ip=client_ip(request),
        client_name=application.name,
    )
    return connection


def connection_revoke(*, connection: GitLabConnection, by: AuditEvent.Actor, actor_id: int | None = None) -> bool:
    """End a connection now: its MCP tokens stop working and its GitLab token is revoked at GitLab.
    Returns False when it had already ended."""
    now = timezone.now()
    with transaction.atomic():
        changed = GitLabConnection.objects.filter(pk=connection.pk, revoked__isnull=True).update(revoked=now)
        AccessToken.objects.filter(connection=connection).delete()
        RefreshToken.objects.filter(connection=connection, revoked__isnull=True).update(revoked=now)
    if not changed:
        return False
    connection.refresh_from_db()
    audit(
        AuditEvent.Kind.CONNECTION_REVOKED,
        user_id=connection.user_id,
        application_id=connection.application_id,
        connection_id=connection.pk,
        by=by,
        actor_id=actor_id,
    )
    try:
        tokens = (connection.gitlab_refresh_token, connection.gitlab_access_token)
    except DecryptionFailed:
        return True  # OAUTH_SESSION_SECRET changed: these tokens are unreadable, GitLab expires them
    gitlab_oauth.revoke(*tokens)  # best effort, after the connection has already ended here
    return True


def user_revoke_all(*, user: AbstractBaseUser, by: AuditEvent.Actor, actor_id: int | None = None) -> int:
    """End every live connection of `user` ("revoke everything"); returns how many ended."""
    live = GitLabConnection.objects.filter(user_id=user.pk, revoked__isnull=True).order_by("pk")
    ended = sum(connection_revoke(connection=connection, by=by, actor_id=actor_id) for connection in live)
    # detail["sessions"]: the count's stored key, kept so old and new rows read alike (like the kind).
    audit(AuditEvent.Kind.USER_CONNECTIONS_REVOKED, user_id=user.pk, by=by, actor_id=actor_id, sessions=ended)
    return ended


def application_connections_end(*, application: Application, by: AuditEvent.Actor, actor_id: int | None = None) -> int:
    """End every live connection of a client, each through connection_revoke; returns how many ended."""
    live = GitLabConnection.objects.filter(application_id=application.pk, revoked__isnull=True).order_by("pk")
    return sum(connection_revoke(connection=connection, by=by, actor_id=actor_id) for connection in live)


def connection_refresh_gitlab(connection_id: int, *, seen_token: str) -> str:
    """Refresh the GitLab token unless another call already did (it differs from `seen_token`)."""
    failure: GitLabOAuthError | None = None
    with transaction.atomic():
        connection = GitLabConnection.objects.select_for_update().get(pk=connection_id)
        if connection.revoked:
            raise ConnectionEnded("connection revoked")
        if connection.access_token_enc != seen_token:
            return connection.gitlab_access_token  # refreshed meanwhile by another call
        try:
            tokens = gitlab_oauth.refresh(connection.gitlab_refresh_token)
        except GitLabOAuthError as exc:
            failure = exc
        else:
            # GitLab rotates refresh tokens: save the new one in the same transaction.
            connection.set_gitlab_tokens(tokens.access_token, tokens.refresh_token or connection.gitlab_refresh_token)
            connection.gitlab_expires = _expiry(tokens.expires_in)
            connection.gitlab_scopes = tokens.scope or connection.gitlab_scopes
            connection.save(update_fields=["access_token_enc", "refresh_token_enc", "gitlab_expires", "gitlab_scopes"])
    if failure is not None:
        audit(
            AuditEvent.Kind.GITLAB_REFRESH_FAILED,
            outcome="error",
            user_id=connection.user_id,
            connection_id=connection.pk,
            error=failure.error,
        )
        if failure.error == "temporarily_unavailable":
            raise failure  # GitLab is down: this call fails, the connection stays
        if failure.error in ("invalid_client", "unauthorized_client"):
            # GitLab refused this server's own credentials (GITLAB_OAUTH_CLIENT_ID/_SECRET, e.g.
            # mid-rotation): the operator's problem, not a reason to sign every user out.
            log.error(
                "GitLab refused this server's OAuth client credentials (%s): check GITLAB_OAUTH_CLIENT_ID "
                "and GITLAB_OAUTH_CLIENT_SECRET",
                failure.error,
            )
            raise failure
        connection_revoke(connection=connection, by=AuditEvent.Actor.GITLAB_REFUSED_REFRESH)
        raise ConnectionEnded("GitLab refused to refresh the connection")
    audit(AuditEvent.Kind.GITLAB_REFRESHED, user_id=connection.user_id, connection_id=connection.pk)
    return connection.gitlab_access_token


def _expiry(expires_in: int | None) -> Any:
    return timezone.now() + timedelta(seconds=expires_in) if expires_in else None
