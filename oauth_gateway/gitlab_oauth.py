"""The GitLab OAuth client: how this server signs users in with GitLab and keeps their tokens fresh.

GitLab endpoints (doc/api/oauth2.md): /oauth/authorize (with our PKCE), /oauth/token (code, refresh
with rotation, device code), /oauth/authorize_device (a fixed path: GitLab's discovery document does
not list it), /oauth/revoke, /api/v4/user to learn who signed in and a group's members to learn
whether they are an admin here. Synchronous: it runs in Django views and in worker threads, never on
the event loop, over one pooled httpx.Client per process (thread-safe). The client holds no setting:
GitLab's URL, our credentials and the timeouts go with each request, so a changed setting (and
`override_settings` in tests) reaches the next call.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from django.conf import settings

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
REVOKE_TIMEOUT = httpx.Timeout(5.0, connect=2.0)  # best effort: never hold a revocation up for long

_pool: httpx.Client | None = None
_pool_lock = threading.Lock()


class GitLabOAuthError(Exception):
    """GitLab refused or could not be reached; `error` is the RFC 6749 code when GitLab gave one."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int | None
    scope: str

    def __repr__(self) -> str:
        return f"TokenSet(scope={self.scope!r}, expires_in={self.expires_in}, tokens=***)"


def callback_url() -> str:
    return f"{settings.PUBLIC_URL}/oauth/callback"


def new_pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(state: str, challenge: str) -> str:
    query = {
        "client_id": settings.GITLAB_OAUTH_CLIENT_ID,
        "redirect_uri": callback_url(),
        "response_type": "code",
        "state": state,
        "scope": " ".join(settings.GITLAB_OAUTH_SCOPES),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{settings.GITLAB_URL}/oauth/authorize?{urlencode(query)}"


def exchange_code(code: str, verifier: str) -> TokenSet:
    return _token_request(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url(), "code_verifier": verifier}
    )


def refresh(refresh_token: str) -> TokenSet:
    return _token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})


def poll_device(device_code: str) -> TokenSet:
    """One poll; raises GitLabOAuthError("authorization_pending" | "slow_down" | ...) until approved."""
    return _token_request({"grant_type": DEVICE_GRANT, "device_code": device_code})


def start_device() -> dict[str, Any]:
    """RFC 8628 §3.1-3.2: a device code, the user code to show and where to enter it."""
    data = _post("/oauth/authorize_device", {"scope": " ".join(settings.GITLAB_OAUTH_SCOPES)})
    if "device_code" not in data or "user_code" not in data:
        raise GitLabOAuthError("server_error", "GitLab gave no device code")
    return data


def revoke(*tokens: str) -> None:
    """RFC 7009 at GitLab for each token given (empty ones skipped); best effort: a revoked connection
    must end here even if GitLab is down."""
    for token in filter(None, tokens):
        with contextlib.suppress(GitLabOAuthError):
            _post("/oauth/revoke", {"token": token}, timeout=REVOKE_TIMEOUT)


def fetch_user(access_token: str) -> dict[str, Any]:
    try:
        response = _http().get(f"{settings.GITLAB_API_BASE}/user", headers=_bearer(access_token), timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise GitLabOAuthError("temporarily_unavailable", f"GitLab unreachable ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise GitLabOAuthError("invalid_token", f"GitLab answered {response.status_code} for /user")
    user: dict[str, Any] = response.json()
    return user


def group_member(group: str, gitlab_id: int, access_token: str) -> bool:
    """Direct or inherited membership, asked with the user's own token (GitLab answers 404 for a group
    they cannot see). doc/api/members.md: "List all members of a group", filtered by user_ids. False
    when GitLab cannot be asked: no admin rights from a failed look-up."""
    url = f"{settings.GITLAB_API_BASE}/groups/{quote(group, safe='')}/members/all"
    try:
        response = _http().get(url, params={"user_ids[]": gitlab_id}, headers=_bearer(access_token), timeout=TIMEOUT)
        members = response.json() if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return False  # fail closed
    return isinstance(members, list) and any(
        isinstance(m, dict) and m.get("id") == gitlab_id and m.get("membership_state", "active") == "active"
        for m in members
    )


def _token_request(form: dict[str, str]) -> TokenSet:
    data = _post("/oauth/token", form)
    if "access_token" not in data:
        raise GitLabOAuthError("server_error", "GitLab gave no access token")
    return TokenSet(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token", ""),
        expires_in=int(data["expires_in"]) if data.get("expires_in") else None,
        scope=data.get("scope", ""),
    )


def _post(path: str, form: dict[str, str], *, timeout: httpx.Timeout = TIMEOUT) -> dict[str, Any]:
    form = {**form, "client_id": settings.GITLAB_OAUTH_CLIENT_ID}
    if settings.GITLAB_OAUTH_CLIENT_SECRET:
        form["client_secret"] = settings.GITLAB_OAUTH_CLIENT_SECRET
    try:
        response = _http().post(f"{settings.GITLAB_URL}{path}", data=form, timeout=timeout)
    except httpx.HTTPError as exc:
        raise GitLabOAuthError("temporarily_unavailable", f"GitLab unreachable ({type(exc).__name__})") from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code >= 400 or not isinstance(data, dict):
        error = data.get("error", "server_error") if isinstance(data, dict) else "server_error"
        description = data.get("error_description", "") if isinstance(data, dict) else ""
        raise GitLabOAuthError(str(error), str(description)[:300])
    return data


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _http() -> httpx.Client:
    """The process's pooled client, made at first use. It captures no setting (see the module
    docstring): every URL, credential and timeout is given per request."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = httpx.Client(timeout=TIMEOUT)
    return _pool
