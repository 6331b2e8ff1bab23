"""The resource-server side of OAuth mode: who is calling /mcp, and with which GitLab token.

One indexed query per request: the access token by its SHA-256 checksum (how django-oauth-toolkit
stores it), joined to its session. Expired, revoked, unbound (no session) and wrong-audience tokens
are refused (RFC 6750 §3.1, RFC 8707 §2): a token minted for another resource must not pass here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from oauth_gateway.crypto import DecryptionFailed
from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import AccessToken, GitLabConnection
from oauth_gateway.services.connections import ConnectionEnded, connection_refresh_gitlab, gitlab_token_expiring

LAST_USED_GRANULARITY = timedelta(minutes=1)  # at most one write per session per minute


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    application_id: int
    connection_id: int
    read_only: bool
    gitlab_token: str
    username: str  # for log lines: who called
    client_id: str  # and through which MCP client

    def __repr__(self) -> str:
        return f"Caller(user={self.user_id}, connection={self.connection_id}, gitlab_token=***)"


class Unauthorized(Exception):
    """The bearer token does not authorise this request; the message goes in error_description."""


def authenticate(bearer: str) -> Caller:
    """The caller behind an MCP access token, with a GitLab token fresh enough to use."""
    checksum = hashlib.sha256(bearer.encode()).hexdigest()
    token = (
        AccessToken.objects.select_related("connection__user", "connection__application")
        .filter(token_checksum=checksum)
        .first()
    )
    now = timezone.now()
    if token is None or token.connection is None:
        raise Unauthorized("The access token is unknown.")
    if token.expires <= now:
        raise Unauthorized("The access token expired.")
    connection = token.connection
    if connection.revoked is not None:
        raise Unauthorized("The session was ended.")
    if settings.MCP_RESOURCE_URL not in (token.resource or []):
        raise Unauthorized(f"The access token is not for {settings.MCP_RESOURCE_URL}.")
    if connection.last_used is None or connection.last_used < now - LAST_USED_GRANULARITY:
        GitLabConnection.objects.filter(pk=connection.pk).update(last_used=now)
    return Caller(
        user_id=connection.user_id,
        application_id=connection.application_id,
        connection_id=connection.pk,
        read_only=connection.is_read_only(),
        gitlab_token=_gitlab_token(connection),
        username=connection.user.username,
        client_id=connection.application.client_id,
    )


def refreshed_gitlab_token(caller: Caller) -> str:
    """After GitLab answered 401: refresh once (unless another call already did) and return it."""
    try:
        connection = GitLabConnection.objects.get(pk=caller.connection_id)
        if connection.gitlab_access_token != caller.gitlab_token:
            return connection.gitlab_access_token
        return connection_refresh_gitlab(caller.connection_id, seen_token=connection.access_token_enc)
    except (ConnectionEnded, DecryptionFailed) as exc:
        raise Unauthorized("The session ended: GitLab no longer accepts it. Sign in again.") from exc


def _gitlab_token(connection: GitLabConnection) -> str:
    try:
        if not gitlab_token_expiring(connection):
            return connection.gitlab_access_token
        return connection_refresh_gitlab(connection.pk, seen_token=connection.access_token_enc)
    except (ConnectionEnded, DecryptionFailed) as exc:
        raise Unauthorized("The session ended: GitLab no longer accepts it. Sign in again.") from exc
    except GitLabOAuthError:
        # GitLab is unreachable: use the token we have; the tool call will report GitLab's state.
        return connection.gitlab_access_token
