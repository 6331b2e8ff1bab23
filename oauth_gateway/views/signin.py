"""Sign-in with GitLab: the page that offers an MCP client's /authorize the legs (redirect or device
code), GitLab's callback (every redirect sign-in ends there) and the device-code page."""

from __future__ import annotations

import math
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from oauth_gateway.denials import denial_redirect
from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import Application, PendingSignIn
from oauth_gateway.redirects import redirect_target
from oauth_gateway.services.signin import (
    SESSION_KEY,
    SignInError,
    signin_begin_code,
    signin_begin_device,
    signin_finish_code,
    signin_next,
)
from oauth_gateway.views.authorize import SWITCHED_FROM, authorize_query
from oauth_gateway.views.errors import (
    START_FROM_CLIENT,
    client_refused,
    error_page,
    no_device_code,
    signin_failed,
)


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
            "target": redirect_target(authorize.get("redirect_uri") or only_redirect_uri(application)),
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


def only_redirect_uri(application: Application) -> str:
    """The redirect URI an authorize request without one uses (valid only when exactly one is registered)."""
    uris = application.redirect_uris.split()
    return uris[0] if len(uris) == 1 else ""
