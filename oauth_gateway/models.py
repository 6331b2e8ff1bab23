"""The OAuth data of the server (the concepts: docs/ARCHITECTURE.md).

django-oauth-toolkit's swappable models were swapped into this app in the first migration, since a
swap cannot be done later without hand-written data migrations. Grants and tokens point at the
GitLabConnection they were issued for: revoking the connection ends them all.

GitLab's tokens (on connections and on sign-ins in flight) are stored encrypted: Fernet
(AES-128-CBC + HMAC-SHA256) with a key from HKDF-SHA256 over OAUTH_SESSION_SECRET, so the secret
itself is never used as a key and its other uses (Django's SECRET_KEY) get unrelated keys.
`encrypt` and `decrypt` at the end of this module are the only way in and out.
"""

from __future__ import annotations

import base64
import functools
import uuid
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models
from django.utils import dateformat, timezone
from oauth2_provider import models as dot


class Application(dot.AbstractApplication):
    """A registered MCP client (dynamic registration, CIMD or made by an admin)."""

    registration_ip = models.GenericIPAddressField(null=True, blank=True)
    disabled = models.DateTimeField(null=True, blank=True)  # no new sign-ins, connections ended
    # An admin vouched for a self-registered client (DCR, CIMD); until then consent says "unverified".
    verified = models.DateTimeField(null=True, blank=True)

    objects = dot.ApplicationManager()

    class Meta:
        verbose_name = "client"

    def natural_key(self) -> tuple[str]:
        return (self.client_id,)

    def is_unverified(self) -> bool:
        """Anyone could have registered it under any name: consent must say so."""
        return self.registration_source != self.RegistrationSource.MANUAL and self.verified is None

    def only_redirect_uri(self) -> str:
        """The redirect URI a request without one uses: the client's one registered URI, or "" when it
        has none or several (RFC 6749 §3.1.2.3)."""
        uris = self.redirect_uris.split()
        return uris[0] if len(uris) == 1 else ""


class GitLabIdentity(models.Model):
    """Who a Django user is in GitLab; the GitLab user id is the key (usernames can change)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gitlab")
    gitlab_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    web_url = models.URLField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "GitLab identities"

    def __str__(self) -> str:
        return f"{self.username} (GitLab #{self.gitlab_id})"


def gitlab_username(user: Any) -> str:
    """How people know a user here: their GitLab username, or the Django one (an admin made by hand)."""
    identity = getattr(user, "gitlab", None)
    return str(identity.username) if identity else str(user.get_username())


REFRESH_MARGIN = timedelta(seconds=60)  # refresh GitLab tokens this long before they expire


class GitLabConnection(models.Model):
    """A connection: a signed-in user, the MCP client, and the GitLab tokens it acts with (the admin,
    /connections/ and the services call it that; "session" is only the Django or MCP SDK one)."""

    class Leg(models.TextChoices):
        CODE = "authorization_code", "GitLab redirect"
        DEVICE = "device", "GitLab device code"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections")
    application = models.ForeignKey(  # an MCP "client" wherever a person reads it
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="connections",
        verbose_name="client",
    )
    leg = models.CharField(max_length=32, choices=Leg.choices)
    access_token_enc = models.TextField()
    refresh_token_enc = models.TextField(blank=True)
    gitlab_expires = models.DateTimeField(null=True, blank=True)
    gitlab_scopes = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        verbose_name = "connection"
        indexes = [
            # The user's and the client's connections, newest first (admin lists, revoke-all).
            models.Index(fields=["user", "-created"], name="connection_user_created"),
            models.Index(fields=["application", "-created"], name="connection_app_created"),
            # The connections list: all of them newest first, and its date hierarchy.
            models.Index(fields=["-created"], name="connection_created"),
            # The connections list filtered by state (active = revoked IS NULL), newest first.
            models.Index(fields=["revoked", "-created"], name="connection_revoked_created"),
            # MAX(last_used) per client ("last use" on the clients list) and per user ("last activity").
            models.Index(fields=["application", "last_used"], name="connection_app_last_used"),
            models.Index(fields=["user", "last_used"], name="connection_user_last_used"),
        ]

    def __str__(self) -> str:
        """Names, as people say it: "alice via Claude Code, since 3 Dec 2026" (ended ones say so)."""
        who = gitlab_username(self.user)
        since = dateformat.format(timezone.localtime(self.created), "j M Y") if self.created else "now"
        ended = "" if self.revoked is None else " (revoked)"
        return f"{who} via {self.application.name or 'an unnamed client'}, since {since}{ended}"

    def is_active(self) -> bool:
        return self.revoked is None

    @property
    def gitlab_access_token(self) -> str:
        return decrypt(self.access_token_enc)

    @property
    def gitlab_refresh_token(self) -> str:
        return decrypt(self.refresh_token_enc) if self.refresh_token_enc else ""

    def set_gitlab_tokens(self, access: str, refresh: str) -> None:
        self.access_token_enc = encrypt(access)
        self.refresh_token_enc = encrypt(refresh) if refresh else ""

    def gitlab_token_expiring(self) -> bool:
        """Whether the GitLab token should be refreshed before it is used (REFRESH_MARGIN ahead)."""
        return self.gitlab_expires is not None and self.gitlab_expires - REFRESH_MARGIN <= timezone.now()

    def is_read_only(self) -> bool:
        """GitLab scopes that allow no writes: such a connection never sees write tools."""
        return "api" not in self.gitlab_scopes.split()


class PendingSignIn(models.Model):
    """A GitLab sign-in in flight: either leg, with the /authorize request to resume afterwards.

    In the database (not in memory) because the callback or a poll may reach another replica.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SIGNED_IN = "signed_in"  # GitLab said who the user is; consent comes next
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    leg = models.CharField(max_length=32, choices=GitLabConnection.Leg.choices)
    state = models.CharField(max_length=100, unique=True)  # our single-use `state` towards GitLab
    browser_key = models.CharField(max_length=100)  # binds the sign-in to the browser that began it
    code_verifier_enc = models.TextField(blank=True)
    device_code_enc = models.TextField(blank=True)
    user_code = models.CharField(max_length=64, blank=True)
    verification_uri = models.URLField(max_length=500, blank=True)
    verification_uri_complete = models.URLField(max_length=500, blank=True)
    interval = models.PositiveIntegerField(default=5)
    next_poll = models.DateTimeField(null=True, blank=True)
    authorize_query = models.TextField()  # the MCP client's /authorize query string
    client_id = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    gitlab_tokens_enc = models.TextField(blank=True)  # JSON of GitLab's token answer, until consent
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires"], name="pending_expires")]  # pruning

    def __str__(self) -> str:
        return f"sign-in {self.pk} ({self.leg}, {self.status})"


class Grant(dot.AbstractGrant):
    """An authorization code, waiting to be exchanged at /token. `code` holds the code's SHA-256,
    never the code (oauth_gateway.validators); a redeemed grant is kept, marked, until it expires
    so that a second use of its code is seen as a replay (RFC 6749 §4.1.2)."""

    connection = models.ForeignKey(GitLabConnection, null=True, blank=True, on_delete=models.CASCADE)
    redeemed = models.DateTimeField(null=True, blank=True)


class AccessToken(dot.AbstractAccessToken):
    """An MCP access token (stored hashed; never a GitLab token)."""

    connection = models.ForeignKey(
        GitLabConnection, null=True, blank=True, on_delete=models.CASCADE, related_name="access_tokens"
    )


class RefreshToken(dot.AbstractRefreshToken):
    """An MCP refresh token; rotated on use, its family revoked on reuse."""

    connection = models.ForeignKey(
        GitLabConnection, null=True, blank=True, on_delete=models.CASCADE, related_name="refresh_tokens"
    )


class IDToken(dot.AbstractIDToken):
    """Unused (no OpenID Connect), swapped so the toolkit's relations stay in this app."""


class DeviceGrant(dot.AbstractDeviceGrant):
    """An RFC 8628 device authorization, should the device endpoint be exposed."""


class AuditEvent(models.Model):
    """Append-only record of what happened: sign-ins, consents, tokens, revocations, tool calls.

    Never holds a secret: no tokens, no file contents; tool arguments are summarised.
    """

    class Kind(models.TextChoices):
        """What happened. The values are stored: never change one (old rows keep their meaning)."""

        SIGNIN_STARTED = "signin.started", "sign-in started"
        SIGNIN_COMPLETED = "signin.completed", "sign-in completed"
        SIGNIN_FAILED = "signin.failed", "sign-in failed"
        SIGNIN_ABANDONED = "signin.abandoned", "sign-in abandoned"
        SIGNIN_SWITCHED = "signin.switched", "sign-in switched to another GitLab account"
        BROWSER_SIGNIN = "browser.signin", "browser sign-in (admin, connections page)"
        BROWSER_SIGNOUT = "browser.signout", "browser sign-out"
        ADMIN_GRANTED = "admin.granted", "admin rights granted"
        ADMIN_REMOVED = "admin.removed", "admin rights removed"
        CONSENT_GIVEN = "consent.given", "consent given (connection made)"
        CONSENT_DENIED = "consent.denied", "consent denied"
        CONNECTION_REVOKED = "connection.revoked", "connection revoked"
        # Stored as "sessions" since before connections had that name.
        USER_CONNECTIONS_REVOKED = "user.sessions_revoked", "all of a user's connections revoked"
        TOKEN_ISSUED = "token.issued", "token issued"
        TOKEN_REFRESHED = "token.refreshed", "token refreshed"
        TOKEN_REFUSED = "token.refused", "token refused"
        TOKEN_REVOKED = "token.revoked", "token revoked (/revoke)"
        CODE_REPLAY_DETECTED = "code.replay_detected", "authorization code replayed"
        REFRESH_REUSE_DETECTED = "refresh.reuse_detected", "refresh token reused"
        GITLAB_REFRESHED = "gitlab.refreshed", "GitLab token refreshed"
        GITLAB_REFRESH_FAILED = "gitlab.refresh_failed", "GitLab token refresh failed"
        CLIENT_REGISTERED = "client.registered", "client registered"
        CLIENT_READ = "client.read", "client read (RFC 7592)"
        CLIENT_UPDATED = "client.updated", "client updated (RFC 7592)"
        CLIENT_RENAMED = "client.renamed", "client renamed (RFC 7592)"
        CLIENT_UNREGISTERED = "client.unregistered", "client unregistered (RFC 7592)"
        CLIENT_MANAGEMENT_REFUSED = "client.management_refused", "client management refused (RFC 7592)"
        CLIENT_DISABLED = "client.disabled", "client disabled"
        CLIENT_ENABLED = "client.enabled", "client enabled"
        CLIENT_VERIFIED = "client.verified", "client verified"
        CLIENT_UNVERIFIED = "client.unverified", "client unverified"
        TOOL_CALL = "tool.call", "tool call"
        MAINTENANCE_PRUNED = "maintenance.pruned", "old rows pruned"

    class Actor(models.TextChoices):
        """Who or what ended a connection or changed a client, stored as detail["by"]: never change
        a value."""

        ADMIN = "admin", "an admin, in the admin"
        SELF_SERVICE = "self_service", "the user, on the connections page"
        COMMAND = "command", "the revoke command"
        GITLAB_IDENTITY = "gitlab_identity", "the GitLab identity at sign-in (admin settings)"
        GITLAB_REFUSED_REFRESH = "gitlab_refused_refresh", "GitLab, refusing to refresh its token"
        CODE_REPLAY = "code_replay", "authorization code replay detection"
        REFRESH_REUSE = "refresh_reuse", "refresh token reuse detection"
        RFC7592_DELETE = "rfc7592_delete", "the client, unregistering itself (RFC 7592)"
        RFC7592_RENAME = "rfc7592_rename", "the client, renaming itself (RFC 7592)"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # PROTECT: a client or connection with audit rows is disabled or revoked, never deleted, so the
    # trail keeps saying which client and connection acted (`prune` removes old rows first).
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name="client",
    )
    connection = models.ForeignKey(GitLabConnection, null=True, blank=True, on_delete=models.PROTECT)
    ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=16, default="ok")
    tool = models.CharField(max_length=100, blank=True)
    project = models.CharField(max_length=255, blank=True)
    gitlab_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "audit event"
        verbose_name_plural = "audit log"
        indexes = [
            # One user's trail, newest first.
            models.Index(fields=["user", "-created"], name="audit_user_created"),
            # Filters by kind and by tool over time.
            models.Index(fields=["kind", "-created"], name="audit_kind_created"),
            # The audit list filtered by client, tool or project, newest first; each also serves the
            # filter's own SELECT DISTINCT (the choices in the sidebar).
            models.Index(fields=["application", "-created"], name="audit_app_created"),
            models.Index(fields=["tool", "-created"], name="audit_tool_created"),
            models.Index(fields=["project", "-created"], name="audit_project_created"),
        ]

    def __str__(self) -> str:
        when = dateformat.format(timezone.localtime(self.created), "j M Y, H:i:s T")
        return f"{self.kind} ({self.outcome}) at {when}"


# --- GitLab tokens at rest -------------------------------------------------------------------------
class DecryptionFailed(Exception):
    """A stored value cannot be read with the current secret (it changed, or the row is corrupt)."""


@functools.cache
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gitlab-mcp", info=b"gitlab tokens v1").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    return _fernet(settings.OAUTH_SESSION_SECRET).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.OAUTH_SESSION_SECRET).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed("stored GitLab token cannot be decrypted with OAUTH_SESSION_SECRET") from exc
