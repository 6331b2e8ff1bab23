"""Every error answer of the OAuth app, in one place.

- For clients, the RFC error object as JSON (RFC 6749 §5.2, also used by RFC 7591 §3.2.2, RFC 7592
  and RFC 8628 §3.5): `error_body`, `oauth_error`, and /token's `token_error` with its no-store
  headers (§5.1); `rate_limited` adds Retry-After.
- For people, the error pages of sign-in: what happened in plain words, what to do next (try again,
  go back to the MCP client, your connections, whom to ask), and the technical code small below, for
  support. Headlines never use OAuth's words: a person reads them, and the code is there for
  whoever helps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import Application
from oauth_gateway.services.signin import SignInError, is_browser_signin, safe_next, signin_next

START_FROM_CLIENT = (
    "This page is part of connecting an MCP client to GitLab. Start from your client: add this server "
    "to it and connect, and it opens this page for you."
)
RE_ADD = "Remove this server from your MCP client and add it again; that registers the app afresh."
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


def error_body(error: str, description: str, **extra: Any) -> dict[str, Any]:
    """The RFC 6749 §5.2 error object; `extra` adds members such as RFC 8628's `interval`."""
    return {"error": error, "error_description": description, **extra}


def oauth_error(
    error: str, description: str, status: int = 400, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JsonResponse:
    return JsonResponse(error_body(error, description, **extra), status=status, headers=headers)


def token_error(error: str, description: str, status: int = 400, **extra: Any) -> JsonResponse:
    """An error from /token or the device endpoints, with the headers of the toolkit's own: no-store
    (RFC 6749 §5.1, §5.2)."""
    return oauth_error(error, description, status, headers=NO_STORE, **extra)


def rate_limited(description: str) -> JsonResponse:
    return oauth_error("too_many_requests", description, 429, headers={"Retry-After": "3600"})


def error_page(
    request: HttpRequest,
    message: str,
    status: int = 400,
    *,
    headline: str = "Sign-in didn't finish",
    code: str = "",
    detail: str = "",
    retry: str = "",
    from_client: bool = True,
) -> HttpResponse:
    """What happened in plain words, what to do next (try again, go back to the MCP client, your
    connections, whom to ask), and for support the technical code, small, below."""
    context = {
        "headline": headline,
        "message": message,
        "code": code,
        "detail": detail,
        "status": status,
        "retry": retry,
        "from_client": from_client,
        "server_host": urlsplit(settings.PUBLIC_URL).netloc,
    }
    return render(request, "oauth_gateway/error.html", context, status=status)


def client_refused(request: HttpRequest, application: Application | None) -> HttpResponse:
    """An app this server does not know, or one an administrator disabled: no redirect to it."""
    if application is not None and application.disabled:
        message = "An administrator of this server has turned off the app that sent you here. Ask them if you need it."
        return error_page(request, message, 403, headline="This app has been turned off here", code="client_disabled")
    message = (
        "This server does not know the app that sent you here: it may have been registered elsewhere, "
        f"or removed. {RE_ADD}"
    )
    return error_page(request, message, headline="This app isn't known here", code="unknown_client")


def signin_failed(request: HttpRequest, exc: SignInError, status: int = 400) -> HttpResponse:
    """A sign-in that ended without telling the client (GitLab refused, the user lookup failed...):
    try the same request again, or (not knowing which) start again from the client."""
    pending = exc.pending
    if pending is None:
        return error_page(request, str(exc), status, code=exc.code)
    if is_browser_signin(pending):
        retry = browser_signin_url(safe_next(pending.authorize_query))
        return error_page(request, str(exc), status, code=exc.code, retry=retry, from_client=False)
    # The client still waits on its redirect URI: the same request, from the start, can still answer it.
    return error_page(request, str(exc), status, code=exc.code, retry=signin_next(pending))


def no_device_code(
    request: HttpRequest, exc: GitLabOAuthError, *, retry: str, from_client: bool = True
) -> HttpResponse:
    """GitLab gave no device code (unreachable, or the device flow is off there)."""
    host = urlsplit(settings.GITLAB_URL).netloc
    message = (
        f"{host} did not answer, or signing in with a code is turned off there. Try again in a minute, "
        "or sign in with GitLab directly instead of with a code."
    )
    return error_page(
        request,
        message,
        502,
        headline="GitLab didn't give a sign-in code",
        code=f"device_authorization_failed: {exc.error}",
        retry=retry,
        from_client=from_client,
    )


def browser_signin_url(next_path: str, leg: str = "") -> str:
    """Sign in again for one of this server's own pages (/connections/, /admin/)."""
    query = {"next": next_path, **({"leg": leg} if leg else {})}
    return f"{reverse('connections-signin')}?{urlencode(query)}"
