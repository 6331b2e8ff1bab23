"""Headless sign-in: a client with no browser and no redirect URI starts GitLab's
device flow itself and polls; the user enters GitLab's code at GitLab, and that approval is the consent.

Two shapes, one implementation:
- RFC 8628: POST /device_authorization gives the client our own `device_code`; POST /token with the
  device_code grant answers authorization_pending / slow_down / access_denied / expired_token, then
  our tokens (minted by django-oauth-toolkit, bound to this server's /mcp).
- The user's reference: GET /authorize without redirect_uri, asking for JSON, gives the same fields
  and a handle; /oauth/poll answers the same states, then an authorization code that the client
  redeems at /token with the PKCE verifier of its /authorize request.

The client's handle is stored as a hash (in PendingSignIn.state, prefixed "h:"); GitLab's device code
never leaves the server. The server asks GitLab at most once per interval whichever replica a poll
reaches (a row lock), and a handle is redeemed once: redemption deletes its PendingSignIn.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest
from oauthlib.common import generate_token

from oauth_gateway import gitlab_oauth
from oauth_gateway.gitlab_oauth import GitLabOAuthError, TokenSet
from oauth_gateway.models import Application, AuditEvent, GitLabConnection, PendingSignIn, decrypt, encrypt
from oauth_gateway.services.audit import audit, client_ip
from oauth_gateway.services.connections import connection_create
from oauth_gateway.services.signin import keep_tokens, pending_tokens, user_for_gitlab

HANDLE_PREFIX = "h:"
# The redirect URI of a code minted for a client with none (RFC 6749's out-of-band value): the code
# travels in the poll answer instead, and /token accepts it without a redirect_uri.
HEADLESS_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
EARLY = timedelta(milliseconds=500)  # a poll this much before its time still counts as on time
WAITING = ("authorization_pending", "slow_down")
Status = PendingSignIn.Status


@dataclass(frozen=True)
class Poll:
    """The answer to one poll: an RFC 8628 §3.5 error code, or "" once the user approved."""

    error: str
    interval: int = 0

    @property
    def approved(self) -> bool:
        return not self.error


def handle_key(handle: str) -> str:
    """How a client's handle is stored and looked up: never the handle itself."""
    return HANDLE_PREFIX + hashlib.sha256(handle.encode()).hexdigest()


def headless_begin(
    *, request: HttpRequest, application: Application, authorize_query: str = ""
) -> tuple[PendingSignIn, str]:
    """Start GitLab's device grant for a client; returns the sign-in and the handle the client keeps.
    Raises GitLabOAuthError when GitLab gives no code."""
    data = gitlab_oauth.start_device()
    handle = secrets.token_urlsafe(32)
    interval = max(int(data.get("interval") or 5), settings.OAUTH_DEVICE_POLL_INTERVAL)
    lifetime = min(int(data.get("expires_in") or 300), settings.OAUTH_DEVICE_TIMEOUT)
    now = timezone.now()
    pending = PendingSignIn.objects.create(
        leg=GitLabConnection.Leg.DEVICE,
        state=handle_key(handle),
        browser_key="",  # no browser: the handle is the only thing that can poll
        device_code_enc=encrypt(data["device_code"]),
        user_code=data["user_code"],
        verification_uri=data.get("verification_uri", ""),
        verification_uri_complete=data.get("verification_uri_complete", ""),
        interval=interval,
        next_poll=now + timedelta(seconds=interval),
        authorize_query=authorize_query,
        client_id=application.client_id,
        expires=now + timedelta(seconds=lifetime),
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:400],
    )
    audit(AuditEvent.Kind.SIGNIN_STARTED, application_id=application.pk, ip=pending.ip, leg=pending.leg, headless=True)
    return pending, handle


def device_answer(pending: PendingSignIn, handle: str) -> dict[str, Any]:
    """RFC 8628 §3.2: what the client shows its user, and how often it may poll."""
    answer: dict[str, Any] = {
        "device_code": handle,
        "user_code": pending.user_code,
        "verification_uri": pending.verification_uri,
        "expires_in": max(0, int((pending.expires - timezone.now()).total_seconds())),
        "interval": pending.interval,
    }
    if pending.verification_uri_complete:
        answer["verification_uri_complete"] = pending.verification_uri_complete
    return answer


def headless_poll(*, handle: str, client_id: str | None = None) -> Poll:
    """One poll by the client (RFC 8628 names it by client_id too; the reference's poll by the handle
    only). GitLab is asked only when the interval has passed; a client that polls sooner is told to
    slow down (RFC 8628 §3.5) and its interval grows by 5 s."""
    with transaction.atomic():
        pending = PendingSignIn.objects.select_for_update().filter(state=handle_key(handle)).first()
        if pending is None or (client_id is not None and pending.client_id != client_id):
            return Poll("invalid_grant")
        if pending.status == Status.SIGNED_IN:
            return Poll("")
        if pending.status == Status.FAILED:
            return Poll(pending.error or "access_denied")
        now = timezone.now()
        if pending.expires <= now:
            return _fail(pending, "expired_token")
        if pending.next_poll and now < pending.next_poll - EARLY:
            return _wait(pending, "slow_down", slower=True)
        if pending.gitlab_tokens_enc:  # approved at GitLab, but who the user is was not learnt yet
            tokens = pending_tokens(pending)
        else:
            try:
                tokens = gitlab_oauth.poll_device(decrypt(pending.device_code_enc))
            except GitLabOAuthError as exc:
                if exc.error in ("access_denied", "expired_token"):
                    return _fail(pending, exc.error)
                # authorization_pending; slow_down (we asked GitLab too soon); or GitLab unreachable.
                pending_error = "slow_down" if exc.error == "slow_down" else "authorization_pending"
                return _wait(pending, pending_error, slower=exc.error == "slow_down")
        return _approved(pending, tokens)


def headless_redeem(*, request: HttpRequest, handle: str, client_id: str) -> GitLabConnection | None:
    """Turn an approved sign-in into a connection, once: the sign-in row goes with it, so a second
    redemption (or a concurrent one, waiting on the lock) finds nothing."""
    with transaction.atomic():
        pending = (
            PendingSignIn.objects.select_for_update()
            .filter(state=handle_key(handle), client_id=client_id, status=Status.SIGNED_IN)
            .first()
        )
        application = Application.objects.filter(client_id=client_id, disabled__isnull=True).first()
        if pending is None or application is None:
            return None
        return connection_create(request=request, pending=pending, application=application)


def headless_authorization_code(*, request: HttpRequest, handle: str) -> dict[str, str] | None:
    """The reference shape's ending: the approved sign-in becomes a connection and an authorization code
    for the /authorize request it began with (PKCE and resource included), minted by the toolkit's
    validator like any other code. Once: None for a handle already used, unknown or not approved."""
    query = QueryDict(
        PendingSignIn.objects.filter(state=handle_key(handle)).values_list("authorize_query", flat=True).first() or ""
    )
    connection = headless_redeem(request=request, handle=handle, client_id=query.get("client_id", ""))
    if connection is None:
        return None
    grant = OAuthRequest(f"{settings.PUBLIC_URL}/authorize")
    grant.client, grant.client_id, grant.user = (
        connection.application,
        connection.application.client_id,
        connection.user,
    )
    grant.scopes, grant.redirect_uri = [settings.MCP_SCOPE], HEADLESS_REDIRECT
    grant.code_challenge, grant.code_challenge_method = query.get("code_challenge"), query.get("code_challenge_method")
    grant.nonce = grant.claims = None
    grant.resource = [settings.MCP_RESOURCE_URL]  # RFC 8707: every token of ours is for /mcp
    grant.gitlab_connection_id = connection.pk
    code = {"code": generate_token()}
    oauth2_settings.OAUTH2_VALIDATOR_CLASS().save_authorization_code(grant.client_id, code, grant)
    answer = {"code": code["code"], "iss": settings.PUBLIC_URL}  # RFC 9207
    if query.get("state"):
        answer["state"] = query["state"]
    return answer


def _wait(pending: PendingSignIn, error: str, *, slower: bool) -> Poll:
    if slower:
        pending.interval += 5
    pending.next_poll = timezone.now() + timedelta(seconds=pending.interval)
    pending.save(update_fields=["interval", "next_poll"])
    return Poll(error, pending.interval)


def _fail(pending: PendingSignIn, error: str) -> Poll:
    pending.status, pending.error = Status.FAILED, error
    pending.save(update_fields=["status", "error"])
    audit(
        AuditEvent.Kind.SIGNIN_FAILED,
        outcome="error",
        ip=pending.ip,
        leg=pending.leg,
        client_id=pending.client_id,
        error=error,
    )
    return Poll(error)


def _approved(pending: PendingSignIn, tokens: TokenSet) -> Poll:
    """GitLab approved: learn who the user is and keep GitLab's tokens (encrypted) until redemption."""
    keep_tokens(pending, tokens)
    try:
        profile = gitlab_oauth.fetch_user(tokens.access_token)
    except GitLabOAuthError:
        pending.save(update_fields=["gitlab_tokens_enc"])  # kept: the next poll asks GitLab who it is again
        return _wait(pending, "authorization_pending", slower=False)
    user = user_for_gitlab(profile)
    pending.status, pending.user = Status.SIGNED_IN, user
    pending.save(update_fields=["status", "user", "gitlab_tokens_enc"])
    audit(
        AuditEvent.Kind.SIGNIN_COMPLETED, user_id=user.pk, ip=pending.ip, leg=pending.leg, client_id=pending.client_id
    )
    return Poll("")
