"""The resource-server side of OAuth mode: who is calling /mcp, and with which GitLab token.

One indexed query per request, so that a revocation takes effect on the next call on every replica
(no cache to outlive it): the access token by its SHA-256 checksum (how django-oauth-toolkit stores
it), joined to its session. Expired, revoked, unbound (no session) and wrong-audience tokens are
refused (RFC 6750 §3.1, RFC 8707 §2): a token minted for another resource must not pass here.
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


# What the bearer check reads, in one indexed query (token_checksum is unique): plain values, not
# four model instances through select_related, which cost the query twice as much CPU.
TOKEN_FIELDS = (
    "expires",
    "resource",
    "connection_id",
    "connection__revoked",
    "connection__last_used",
    "connection__user_id",
    "connection__application_id",
    "connection__gitlab_scopes",
    "connection__gitlab_expires",
    "connection__access_token_enc",
    "connection__user__username",
    "connection__application__client_id",
)


def authenticate(bearer: str) -> Caller:
    """The caller behind an MCP access token, with a GitLab token fresh enough to use."""
    checksum = hashlib.sha256(bearer.encode()).hexdigest()
    row = AccessToken.objects.filter(token_checksum=checksum).values_list(*TOKEN_FIELDS).first()
    now = timezone.now()
    if row is None or row[2] is None:
        raise Unauthorized("The access token is unknown.")
    (expires, resource, connection_id, revoked, last_used, user_id, application_id) = row[:7]
    scopes, gitlab_expires, token_enc, username, client_id = row[7:]
    if expires <= now:
        raise Unauthorized("The access token expired.")
    if revoked is not None:
        raise Unauthorized("The session was ended.")
    if settings.MCP_RESOURCE_URL not in (resource or []):
        raise Unauthorized(f"The access token is not for {settings.MCP_RESOURCE_URL}.")
    if last_used is None or last_used < now - LAST_USED_GRANULARITY:
        GitLabConnection.objects.filter(pk=connection_id).update(last_used=now)
    # The session as the helpers below read it (not saved: only these fields are loaded).
    connection = GitLabConnection(
        pk=connection_id, gitlab_scopes=scopes, gitlab_expires=gitlab_expires, access_token_enc=token_enc
    )
    return Caller(
        user_id=user_id,
        application_id=application_id,
        connection_id=connection_id,
        read_only=connection.is_read_only(),
        gitlab_token=_gitlab_token(connection),
        username=username,
        client_id=client_id,
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
