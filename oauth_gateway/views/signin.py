"""The browser pages of an MCP client's sign-in (docs/ARCHITECTURE.md, Walk 2): /authorize, which
is also our consent page; the page offering GitLab's legs (redirect or device code); GitLab's
callback (every redirect sign-in ends there); the device-code page; the consent page's "not you?".
Sign-ins and connections change through oauth_gateway.services.signin and .connections.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.mixins import OAuthLibMixin

from oauth_gateway.denials import denial_redirect, error_url
from oauth_gateway.device_flow import authorize_as_json
from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import Application, AuditEvent, PendingSignIn, gitlab_username
from oauth_gateway.services.audit import audit, client_ip
from oauth_gateway.services.connections import connection_create
from oauth_gateway.services.signin import (
    SESSION_KEY,
    SignInError,
    fresh_signin,
    signin_abandon,
    signin_begin_code,
    signin_begin_device,
    signin_finish_code,
    signin_next,
)
from oauth_gateway.validators import canonical_resource
from oauth_gateway.views.errors import (
    RE_ADD,
    START_FROM_CLIENT,
    client_refused,
    error_page,
    no_device_code,
    signin_failed,
)

SWITCHED_FROM = "gitlab_mcp_switched_from"


class AuthorizeView(AuthorizationView):
    """RFC 6749 §4.1.1 through django-oauth-toolkit, with GitLab sign-in before our consent page.

    The client and redirect URI are checked before anything else, so a bad one gets an error page,
    never a redirect. `resource` must name this server (PUBLIC_URL or PUBLIC_URL/mcp; RFC 8707, else
    invalid_target) and is stored as its one audience, also when absent, so every token is bound to
    it. Consent is asked every time (no client-chosen approval_prompt).
    """

    template_name = "oauth_gateway/consent.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.oauth2_data: dict[str, Any] = {}
        if request.method == "GET" and asks_for_json(request):
            headless = authorize_as_json(request)
            if headless is not None:
                return headless
        query = request.GET.copy()
        query.pop("approval_prompt", None)
        # RFC 8707: PUBLIC_URL and PUBLIC_URL/mcp are one audience, stored as MCP_RESOURCE_URL.
        sent = query.getlist("resource") if request.method == "GET" else request.POST.get("resource", "").split()
        foreign_resource = any(canonical_resource(r) is None for r in sent)
        query.setlist("resource", [settings.MCP_RESOURCE_URL])
        request.GET = query  # type: ignore[assignment]
        client_id = request.POST.get("client_id") if request.method == "POST" else query.get("client_id")
        credentials: dict[str, Any] = {}
        if request.method == "GET":
            try:
                _, credentials = self.validate_authorization_request(request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
        # Looked up after validation: a CIMD client is stored by it, the first time it is seen.
        application = Application.objects.filter(client_id=client_id or "").first()
        if foreign_resource:
            if not credentials:  # no verified redirect URI to send the error to
                message = (
                    "Your MCP client asked to sign in for another server than this one. Check the server "
                    f"address in your client: it should be {settings.PUBLIC_URL}{settings.MCP_PATH}."
                )
                return error_page(
                    request, message, headline="This sign-in is for another server", code="invalid_target"
                )
            # RFC 8707 §2: invalid_target, on the client's (validated) redirect URI.
            url = _error_url(credentials, "invalid_target", f"The resource must be {settings.PUBLIC_URL}.")
            return self.redirect(url, application)
        if credentials and query.get("code_challenge_method") != "S256":
            # RFC 9700 §2.1.1: S256 only; the client and redirect URI are valid, so tell it there.
            url = _error_url(credentials, "invalid_request", "code_challenge_method must be S256.")
            return self.redirect(url, application)
        if application is None or application.disabled:
            return client_refused(request, application)
        if fresh_signin(request, application.client_id) is None:
            if request.method != "GET":
                message = (
                    "For your safety a sign-in lasts a few minutes only. Go back to your MCP client and connect again."
                )
                return error_page(request, message, 403, headline="This sign-in has expired", code="signin_expired")
            next_url = f"{reverse('oauth2_provider:authorize')}?{query.urlencode()}"
            return HttpResponseRedirect(f"{reverse('oauth-signin')}?{urlencode({'next': next_url})}")
        return super().dispatch(request, *args, **kwargs)

    def error_response(self, error: Any, application: Any, **kwargs: Any) -> HttpResponse:
        """RFC 6749 §4.1.2.1: an unknown client or a redirect URI it did not register gets a page,
        never a redirect; other errors go back to the client's (verified) redirect URI."""
        redirect, response = OAuthLibMixin.error_response(self, error, **kwargs)
        if redirect:
            return self.redirect(_with_iss(response["url"]), application)
        if not Application.objects.filter(client_id=self.request.GET.get("client_id") or "").exists():
            return client_refused(self.request, None)
        description = getattr(response["error"], "description", "") or "The authorization request is invalid."
        message = (
            "The app that sent you here asked in a way this server cannot accept; usually its saved "
            f"registration no longer matches (its return address changed, say). {RE_ADD}"
        )
        code = getattr(response["error"], "error", "") or "invalid_request"
        return error_page(
            self.request, message, headline="Your app's sign-in request isn't valid", code=code, detail=description
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["gitlab_username"] = gitlab_username(self.request.user)
        context["target"] = redirect_target(context.get("redirect_uri") or "")
        context["server_host"] = urlsplit(settings.PUBLIC_URL).netloc
        context["gitlab_host"] = urlsplit(settings.GITLAB_URL).netloc
        # "Not you?": the same request again, after signing out here (SwitchAccountView).
        context["this_request"] = f"{reverse('oauth2_provider:authorize')}?{self.request.GET.urlencode()}"
        return context

    def create_authorization_response(self, request: HttpRequest, scopes: Any, credentials: Any, allow: Any) -> Any:
        application = Application.objects.get(client_id=credentials["client_id"])
        pending = fresh_signin(request, application.client_id)
        if pending is None:
            raise SignInError("Your sign-in expired. Start again from your client.")
        if allow:
            connection = connection_create(request=request, pending=pending, application=application)
            credentials = {**credentials, "gitlab_connection_id": connection.pk}
        else:
            audit(
                AuditEvent.Kind.CONSENT_DENIED,
                user_id=request.user.pk,
                application_id=application.pk,
                ip=client_ip(request),
            )
            signin_abandon(pending)  # its GitLab tokens, never to be used, are revoked at GitLab
        return super().create_authorization_response(request, scopes, credentials, allow)

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            return super().form_valid(form)
        except SignInError as exc:
            return signin_failed(self.request, exc, 403)


class SignInView(View):
    """Choose how to sign in with GitLab, then start that leg."""

    def get(self, request: HttpRequest) -> HttpResponse:
        authorize = authorize_query(request.GET.get("next", ""))
        if authorize is None:
            return error_page(request, START_FROM_CLIENT, headline="Nothing to sign in to", code="no_request")
        application = Application.objects.filter(client_id=authorize.get("client_id", "")).first()
        if application is None or application.disabled:
            return client_refused(request, application)
        flow = settings.GITLAB_OAUTH_FLOW
        # No redirect_uri (only valid with one registered URI): the user may be on another device.
        device_only = flow == "device" or (flow == "auto" and "redirect_uri" not in authorize)
        context = {
            "application": application,
            "client_name": application.name or "An MCP client",
            "target": redirect_target(authorize.get("redirect_uri") or application.only_redirect_uri()),
            "next": request.GET["next"],
            "show_redirect": not device_only,
            # After "not you?": GitLab may still know the last person (its own session).
            "switched_from": request.session.get(SWITCHED_FROM, ""),
            "gitlab_host": urlsplit(settings.GITLAB_URL).netloc,
        }
        return render(request, "oauth_gateway/signin.html", context)

    def post(self, request: HttpRequest) -> HttpResponse:
        authorize = authorize_query(request.POST.get("next", ""))
        if authorize is None:
            return error_page(request, START_FROM_CLIENT, headline="Nothing to sign in to", code="no_request")
        query, client_id = authorize.urlencode(), authorize.get("client_id", "")
        request.session.pop(SWITCHED_FROM, None)  # said once, on the page before this one
        leg = request.POST.get("leg")
        if settings.GITLAB_OAUTH_FLOW == "device" or leg == "device":
            try:
                pending = signin_begin_device(request=request, authorize_query=query, client_id=client_id)
            except GitLabOAuthError as exc:
                return no_device_code(
                    request, exc, retry=f"{reverse('oauth-signin')}?{urlencode({'next': request.POST['next']})}"
                )
            return HttpResponseRedirect(reverse("oauth-device", args=[pending.pk]))
        return HttpResponseRedirect(signin_begin_code(request=request, authorize_query=query, client_id=client_id))


class CallbackView(View):
    """GitLab's authorization-code leg ends here (GitLab redirects to PUBLIC_URL/oauth/callback), for
    an MCP client's sign-in and for a browser sign-in to this server's own pages alike."""

    def get(self, request: HttpRequest) -> HttpResponse:
        state = request.GET.get("state", "")
        if not state:
            message = (
                "GitLab sent you back here without the details this server needs to finish. "
                "Start again from your MCP client."
            )
            return error_page(request, message, headline="This sign-in link is incomplete", code="missing_state")
        try:
            pending = signin_finish_code(
                request=request, state=state, code=request.GET.get("code", ""), error=request.GET.get("error", "")
            )
        except SignInError as exc:
            # Denied or expired at GitLab: the MCP client hears it on its redirect URI (RFC 6749 §4.1.2.1).
            return denial_redirect(exc.pending) or signin_failed(request, exc)
        # On to consent for an MCP client; a browser sign-in goes back to its (local) page.
        return HttpResponseRedirect(signin_next(pending))


class DeviceView(View):
    """The page showing GitLab's user code; it polls /oauth/poll until the user approved."""

    def get(self, request: HttpRequest, pending_id: str) -> HttpResponse:
        pending = PendingSignIn.objects.filter(pk=pending_id).first()
        bound = request.session.get(SESSION_KEY) or {}
        if pending is None or bound.get("id") != str(pending.pk):
            message = (
                "This sign-in is over, or it was started in another browser than this one. Start again from "
                "your MCP client, in the browser it opens."
            )
            return error_page(request, message, 404, headline="This sign-in page has expired", code="unknown_signin")
        # Named on the page, beside a warning: a code someone else sent you is how device codes are phished.
        application = Application.objects.filter(client_id=pending.client_id).first() if pending.client_id else None
        minutes_left = max(0, math.ceil((pending.expires - timezone.now()).total_seconds() / 60))
        context = {"pending": pending, "application": application, "minutes_left": minutes_left}
        return render(request, "oauth_gateway/device.html", context)


class SwitchAccountView(View):
    """The consent page's "Not you? Sign in as someone else" (POST, CSRF-checked): sign this browser
    out here, drop the sign-in waiting for consent (its GitLab tokens are revoked at GitLab), and
    start the same /authorize request again, every parameter kept, so the client still gets its
    answer on its redirect URI with its own state."""

    def post(self, request: HttpRequest) -> HttpResponse:
        next_url = request.POST.get("next", "")
        authorize = authorize_query(next_url)
        if authorize is None:
            return error_page(request, START_FROM_CLIENT, headline="Nothing to sign in to", code="no_request")
        pending = fresh_signin(request, authorize.get("client_id", ""))
        who = gitlab_username(request.user)
        if pending is not None:
            signin_abandon(pending)
        audit(AuditEvent.Kind.SIGNIN_SWITCHED, user_id=request.user.pk, ip=client_ip(request))
        logout(request)  # a new, empty session: nothing of the last person stays in this browser
        request.session[SWITCHED_FROM] = who
        return HttpResponseRedirect(f"{reverse('oauth2_provider:authorize')}?{authorize.urlencode()}")


def _error_url(credentials: dict[str, Any], error: str, description: str) -> str:
    """The client's (validated) redirect URI carrying an error (RFC 6749 §4.1.2.1)."""
    return error_url(credentials["redirect_uri"], credentials.get("state"), error, description)


def _with_iss(url: str) -> str:
    """RFC 9207 §2: `iss` on every authorization response, errors included (the toolkit adds it to
    successful ones only); an `iss` already in the URL is replaced, never repeated."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("iss", settings.PUBLIC_URL)])))


def authorize_query(next_url: str) -> QueryDict | None:
    """The /authorize query carried in `next`; anything else (another host or path) is refused."""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != reverse("oauth2_provider:authorize"):
        return None
    query = QueryDict(parts.query)
    return query if query.get("client_id") and parse_qs(parts.query) else None


def asks_for_json(request: HttpRequest) -> bool:
    """The reference's CLI shape of /authorize (oauth_gateway.device_flow): JSON asked for, no page,
    no redirect_uri."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept and "redirect_uri" not in request.GET


def redirect_target(uri: str, *, path_chars: int = 40) -> dict[str, str]:
    """How a consent page shows where the code will go: the whole host, always (a long host must not
    hide the registrable domain at its end), and the rest of the URI shortened if need be."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        return {"host": uri, "rest": ""}
    if parts.port:
        host = f"{host}:{parts.port}"
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(rest) > path_chars:
        rest = rest[: path_chars - 1] + "…"
    return {"scheme": parts.scheme, "host": host or f"{parts.scheme}:", "rest": rest}
