"""Signing a user in with GitLab, by either leg, up to the consent page.

Both legs end the same way: a Django user for the GitLab identity, logged in to this browser, and a
PendingSignIn in state SIGNED_IN holding GitLab's tokens until the user consents. Every pending
sign-in is bound to the browser that began it (a key in its session), and GitLab's `state` is
single use, so a callback cannot be replayed or completed from another browser.

A *browser* sign-in (for /connections/ and /admin/, not for an MCP client) goes the same way with an
empty client_id and a local `next` path in place of the /authorize query. It needs the identity
only: GitLab's tokens are revoked at GitLab as soon as the user (and admin group membership) is
known, and the user's staff flag follows ADMIN_GITLAB_USERS / ADMIN_GITLAB_GROUP.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from oauth_gateway import gitlab_oauth
from oauth_gateway.denials import DENIED, EXPIRED, denial_url
from oauth_gateway.gitlab_oauth import GitLabOAuthError, TokenSet
from oauth_gateway.models import AuditEvent, GitLabConnection, GitLabIdentity, PendingSignIn, decrypt, encrypt
from oauth_gateway.services.admins import admin_rights_set
from oauth_gateway.services.audit import audit, client_ip

SESSION_KEY = "gitlab_mcp_signin"
CODE_LEG_TTL = timedelta(minutes=10)
EXPIRED_KEPT = timedelta(minutes=15)  # an expired sign-in's page may still poll, to say it expired
Leg = GitLabConnection.Leg
BROWSER_HOME = "/connections/"


class SignInError(Exception):
    """A sign-in that cannot go on; the message is shown to the user. `pending` is the sign-in it
    ended, when known (its client may have to be told: oauth_gateway.denials); `code` names what
    happened, small on the error page for support."""

    pending: PendingSignIn | None = None
    code = "signin_failed"


class TooManySignIns(SignInError):
    """This address already holds OAUTH_BROWSER_SIGNINS_PER_IP unfinished browser sign-ins."""


def signin_begin_code(*, request: HttpRequest, authorize_query: str, client_id: str) -> str:
    """Start the authorization-code leg; returns the GitLab URL to send the browser to."""
    verifier, challenge = gitlab_oauth.new_pkce()
    pending = _create(request, Leg.CODE, authorize_query, client_id, timezone.now() + CODE_LEG_TTL)
    pending.code_verifier_enc = encrypt(verifier)
    pending.save(update_fields=["code_verifier_enc"])
    return gitlab_oauth.authorize_url(pending.state, challenge)


def signin_begin_browser(*, request: HttpRequest, next_path: str, leg: str = Leg.CODE) -> str:
    """Start a browser sign-in for this server's own pages; returns where to send the browser
    (GitLab's authorize page, or our device-code page). Same rows and legs as an MCP sign-in, with
    no client and the local `next` path kept where the /authorize query would be.

    Anyone may start one, so each address holds at most OAUTH_BROWSER_SIGNINS_PER_IP unfinished ones
    (counted before GitLab is asked for a device code), and the device leg needs ADMIN_DEVICE_LOGIN."""
    next_path = safe_next(next_path)
    if leg == Leg.DEVICE and not settings.ADMIN_DEVICE_LOGIN:
        raise SignInError("Signing in to this server's pages with a GitLab code is turned off. Sign in with GitLab.")
    ip = client_ip(request)
    unfinished = PendingSignIn.objects.filter(
        client_id="", ip=ip, status=PendingSignIn.Status.PENDING, expires__gt=timezone.now()
    )
    if ip and unfinished.count() >= settings.OAUTH_BROWSER_SIGNINS_PER_IP:
        raise TooManySignIns("Too many sign-ins were started from your address. Try again in a few minutes.")
    if leg == Leg.DEVICE:
        pending = signin_begin_device(request=request, authorize_query=next_path, client_id="")
        return reverse("oauth-device", args=[pending.pk])
    return signin_begin_code(request=request, authorize_query=next_path, client_id="")


def signin_finish_code(*, request: HttpRequest, state: str, code: str, error: str) -> PendingSignIn:
    """GitLab came back to /oauth/callback: claim the single-use state, exchange the code."""
    with transaction.atomic():
        pending = PendingSignIn.objects.select_for_update().filter(state=state, leg=Leg.CODE).first()
        if pending is None or pending.status != PendingSignIn.Status.PENDING:
            raise SignInError("This sign-in link was already used or is unknown. Start again from your client.")
        pending.state = f"used:{secrets.token_hex(16)}"  # never matches again: replay refused
        pending.save(update_fields=["state"])
    _check_browser(request, pending)
    if pending.expires <= timezone.now():
        raise _fail(pending, "expired", EXPIRED)
    if error == "access_denied":
        raise _fail(pending, error, DENIED)
    if error or not code:
        raise _fail(pending, error[:40] or "no_code", f"GitLab did not sign you in ({error[:40] or 'no code'}).")
    try:
        tokens = gitlab_oauth.exchange_code(code, decrypt(pending.code_verifier_enc))
    except GitLabOAuthError as exc:
        raise _fail(pending, exc.error, "GitLab refused the sign-in. Start again from your client.") from None
    return _signed_in(request, pending, tokens)


def signin_begin_device(*, request: HttpRequest, authorize_query: str, client_id: str) -> PendingSignIn:
    """Start the device leg: GitLab gives a user code for the user to enter at GitLab."""
    data = gitlab_oauth.start_device()
    interval = max(int(data.get("interval") or 5), settings.OAUTH_DEVICE_POLL_INTERVAL)
    lifetime = min(int(data.get("expires_in") or 300), settings.OAUTH_DEVICE_TIMEOUT)
    now = timezone.now()
    pending = _create(request, Leg.DEVICE, authorize_query, client_id, now + timedelta(seconds=lifetime))
    pending.device_code_enc = encrypt(data["device_code"])
    pending.user_code = data["user_code"]
    pending.verification_uri = data.get("verification_uri", "")
    pending.verification_uri_complete = data.get("verification_uri_complete", "")
    pending.interval = interval
    pending.next_poll = now + timedelta(seconds=interval)
    pending.save()
    return pending


def signin_poll_device(*, request: HttpRequest, pending: PendingSignIn) -> dict[str, Any]:
    """What the device page shows next. GitLab is asked at most once per `interval`, whichever
    replica the browser's poll reaches (the row lock makes the interval hold across processes)."""
    _check_browser(request, pending)
    with transaction.atomic():
        pending = PendingSignIn.objects.select_for_update().get(pk=pending.pk)
        if pending.status != PendingSignIn.Status.PENDING:
            return poll_status(pending)
        now = timezone.now()
        if pending.expires <= now:
            _fail(pending, "expired_token", EXPIRED)
            return poll_status(pending)
        if pending.next_poll and now < pending.next_poll:
            return poll_status(pending)
        try:
            tokens = gitlab_oauth.poll_device(decrypt(pending.device_code_enc))
        except GitLabOAuthError as exc:
            return _device_wait(pending, exc)
    _signed_in(request, pending, tokens)
    return poll_status(pending)


def poll_status(pending: PendingSignIn) -> dict[str, Any]:
    if pending.status == PendingSignIn.Status.SIGNED_IN:
        return {"status": "complete", "next": signin_next(pending)}
    if pending.status == PendingSignIn.Status.FAILED:
        again = "Sign in again." if is_browser_signin(pending) else "Start again from your client."
        error = pending.error if pending.error.endswith(again) else f"{pending.error} {again}"
        denial = denial_url(pending)  # the device page's script takes the browser back to the client
        return {"status": "failed", "error": error, **({"next": denial} if denial else {})}
    return {"status": "pending", "interval": pending.interval}


def signin_next(pending: PendingSignIn) -> str:
    """Where the browser goes once signed in: the MCP client's /authorize request, or the local
    page a browser sign-in was started for."""
    if is_browser_signin(pending):
        return safe_next(pending.authorize_query)
    return f"/authorize?{pending.authorize_query}"


def is_browser_signin(pending: PendingSignIn) -> bool:
    return not pending.client_id


def safe_next(raw: str) -> str:
    """`raw` when it is a local path this server's pages may continue to (/connections/, /admin/...);
    anything else (another host, a scheme, `//host`, a backslash) falls back to /connections/."""
    parts = urlsplit(raw or "")
    local = raw.startswith("/") and not raw.startswith("//") and not parts.scheme and not parts.netloc
    if not local or "\\" in raw or any(ord(c) < 33 for c in raw):
        return BROWSER_HOME
    return raw if parts.path == BROWSER_HOME or parts.path.startswith("/admin/") else BROWSER_HOME


def fresh_signin(request: HttpRequest, client_id: str) -> PendingSignIn | None:
    """The sign-in this browser just completed for this client, waiting for consent."""
    bound = request.session.get(SESSION_KEY) or {}
    if not bound.get("id") or not request.user.is_authenticated:
        return None
    return PendingSignIn.objects.filter(
        pk=bound["id"],
        client_id=client_id,
        user=request.user,
        status=PendingSignIn.Status.SIGNED_IN,
        expires__gt=timezone.now(),
    ).first()


def pending_tokens(pending: PendingSignIn) -> TokenSet:
    return TokenSet(**json.loads(decrypt(pending.gitlab_tokens_enc)))


def keep_tokens(pending: PendingSignIn, tokens: TokenSet) -> None:
    """GitLab's tokens on the sign-in, encrypted, until consent (or redemption) hands them on."""
    pending.gitlab_tokens_enc = encrypt(json.dumps(tokens.__dict__))


def _device_wait(pending: PendingSignIn, exc: GitLabOAuthError) -> dict[str, Any]:
    """RFC 8628 §3.5: keep waiting, slow down by 5 s, or stop on denial or expiry."""
    if exc.error in ("authorization_pending", "slow_down"):
        if exc.error == "slow_down":
            pending.interval += 5
        pending.next_poll = timezone.now() + timedelta(seconds=pending.interval)
        pending.save(update_fields=["interval", "next_poll"])
        return poll_status(pending)
    messages = {"access_denied": DENIED, "expired_token": EXPIRED}
    _fail(pending, exc.error, messages.get(exc.error, "GitLab refused the sign-in."))
    return poll_status(pending)


def _create(request: HttpRequest, leg: str, authorize_query: str, client_id: str, expires: Any) -> PendingSignIn:
    # Long-expired sign-ins go as new ones come (on the expiry index), not only when `prune` runs.
    PendingSignIn.objects.filter(expires__lt=timezone.now() - EXPIRED_KEPT).delete()
    key = secrets.token_urlsafe(32)
    pending = PendingSignIn.objects.create(
        leg=leg,
        state=secrets.token_urlsafe(32),
        browser_key=key,
        authorize_query=authorize_query,
        client_id=client_id,
        expires=expires,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:400],
    )
    request.session[SESSION_KEY] = {"id": str(pending.pk), "key": key}
    audit(AuditEvent.Kind.SIGNIN_STARTED, ip=client_ip(request), leg=leg, client_id=client_id)
    return pending


def _check_browser(request: HttpRequest, pending: PendingSignIn) -> None:
    bound = request.session.get(SESSION_KEY) or {}
    same = bound.get("id") == str(pending.pk) and secrets.compare_digest(str(bound.get("key", "")), pending.browser_key)
    if not same:
        raise SignInError("This sign-in was started in another browser. Start again from your client.")


def _fail(pending: PendingSignIn, error: str, message: str) -> SignInError:
    """Record the failure; returns the error for the caller to raise when the request must stop."""
    if is_browser_signin(pending):  # no client to start from: the page itself offers a new sign-in
        message = message.replace("Start again from your client.", "Sign in again.")
    pending.status, pending.error = PendingSignIn.Status.FAILED, message
    pending.save(update_fields=["status", "error"])
    audit(
        AuditEvent.Kind.SIGNIN_FAILED,
        outcome="error",
        ip=pending.ip,
        leg=pending.leg,
        client_id=pending.client_id,
        error=error,
    )
    failure = SignInError(message)
    failure.pending, failure.code = pending, error
    return failure


def signin_abandon(pending: PendingSignIn) -> None:
    """A sign-in waiting for consent that will never get it ("not you?" on the consent page): the
    GitLab tokens it holds are revoked at GitLab, and it goes."""
    if pending.gitlab_tokens_enc:
        tokens = pending_tokens(pending)
        gitlab_oauth.revoke(tokens.refresh_token, tokens.access_token)
    audit(
        AuditEvent.Kind.SIGNIN_ABANDONED,
        user_id=pending.user_id,
        ip=pending.ip,
        leg=pending.leg,
        client_id=pending.client_id,
    )
    pending.delete()


def _signed_in(request: HttpRequest, pending: PendingSignIn, tokens: TokenSet) -> PendingSignIn:
    browser = is_browser_signin(pending)
    try:
        profile = gitlab_oauth.fetch_user(tokens.access_token)
        admin = _gitlab_admin(profile, tokens.access_token) if browser else None
    except GitLabOAuthError:
        raise _fail(pending, "user_lookup", "GitLab did not say who you are. Start again from your client.") from None
    finally:
        if browser:  # a browser sign-in needs the identity only: GitLab's tokens are not kept
            gitlab_oauth.revoke(tokens.refresh_token, tokens.access_token)
    user = user_for_gitlab(profile)
    if browser:
        admin_rights_set(user, admin)
    else:
        keep_tokens(pending, tokens)
    pending.status, pending.user = PendingSignIn.Status.SIGNED_IN, user
    pending.save(update_fields=["status", "user", "gitlab_tokens_enc"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    # login() rotates the session: bind the sign-in to the new one again.
    request.session[SESSION_KEY] = {"id": str(pending.pk), "key": pending.browser_key}
    if browser:
        next_path = safe_next(pending.authorize_query)
        audit(
            AuditEvent.Kind.BROWSER_SIGNIN,
            user_id=user.pk,
            ip=pending.ip,
            leg=pending.leg,
            next=next_path,
            staff=user.is_staff,
        )
    else:
        audit(
            AuditEvent.Kind.SIGNIN_COMPLETED,
            user_id=user.pk,
            ip=pending.ip,
            leg=pending.leg,
            client_id=pending.client_id,
        )
    return pending


def _gitlab_admin(profile: dict[str, Any], access_token: str) -> bool | None:
    """Whether ADMIN_GITLAB_USERS (ids or usernames) or ADMIN_GITLAB_GROUP make this GitLab user an
    admin here; None when neither is set (staff rights are then managed in the admin only)."""
    listed, group = settings.ADMIN_GITLAB_USERS, settings.ADMIN_GITLAB_GROUP
    if not listed and not group:
        return None
    names = {entry.lower() for entry in listed}
    if str(profile["id"]) in names or str(profile["username"]).lower() in names:
        return True
    return bool(group) and gitlab_oauth.group_member(group, int(profile["id"]), access_token)


def user_for_gitlab(profile: dict[str, Any]) -> User:
    """The Django user of a GitLab account, created on first sign-in; keyed by GitLab's user id."""
    users = get_user_model()
    identity = GitLabIdentity.objects.select_related("user").filter(gitlab_id=profile["id"]).first()
    if identity is None:
        username = str(profile["username"])
        if users.objects.filter(username=username).exists():
            username = f"{username}-{profile['id']}"
        user = users.objects.create(username=username, first_name=str(profile.get("name", ""))[:150])
        user.set_unusable_password()
        user.save(update_fields=["password"])
        identity = GitLabIdentity(user=user, gitlab_id=profile["id"])
    identity.username = str(profile["username"])
    identity.name = str(profile.get("name") or "")
    identity.avatar_url = str(profile.get("avatar_url") or "")
    identity.web_url = str(profile.get("web_url") or "")
    identity.save()
    return identity.user
