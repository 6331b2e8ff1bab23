"""Browser pages for people, not MCP clients: /connections/ (each user's own connections, with a
"Disconnect" button) and GitLab sign-in for them and for the Django admin.

Sign-in reuses the MCP sign-in with GitLab (services.signin) without a client: afterwards the
browser goes back to a local `next` page. A connection that is not the user's own is a 404, exactly
like one that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import AuditEvent, GitLabConnection, gitlab_username
from oauth_gateway.services.audit import audit, client_ip
from oauth_gateway.services.connections import connection_revoke
from oauth_gateway.services.signin import (
    BROWSER_HOME,
    SignInError,
    TooManySignIns,
    safe_next,
    signin_begin_browser,
)
from oauth_gateway.views.errors import browser_signin_url, error_page, no_device_code

SHOWN_ENDED = 20  # ended connections listed under the active ones, newest first


class ConnectionsView(View):
    """The signed-in user's connections: which client, how it registered, when it was made and last used."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(browser_signin_url(BROWSER_HOME))
        mine = GitLabConnection.objects.filter(user=request.user).select_related("application").order_by("-created")
        context = {
            "active": list(mine.filter(revoked__isnull=True)),
            "ended": list(mine.filter(revoked__isnull=False)[:SHOWN_ENDED]),
            "gitlab_username": gitlab_username(request.user),
        }
        return render(request, "oauth_gateway/connections.html", context)


class DisconnectView(View):
    """POST (CSRF-checked) only: end one of the user's own connections through the one revoke path."""

    def post(self, request: HttpRequest, connection_id: int) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(browser_signin_url(BROWSER_HOME))
        connection = GitLabConnection.objects.filter(pk=connection_id, user=request.user).first()
        if connection is None:
            raise Http404("No such connection.")
        if connection_revoke(connection=connection, by=AuditEvent.Actor.SELF_SERVICE, actor_id=request.user.pk):
            messages.success(request, f"Disconnected {connection.application.name or 'the client'}.")
        else:
            messages.info(request, "That connection had already ended.")
        return HttpResponseRedirect(reverse("connections"))


class SignOutView(View):
    """POST (CSRF-checked): sign this browser out of this server's pages, anyone signed in (the
    admin's own logout does nothing for someone who is not an admin), then go to `next`, one of
    this server's pages. The MCP clients' connections are not touched."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            audit(AuditEvent.Kind.BROWSER_SIGNOUT, user_id=request.user.pk, ip=client_ip(request))
        logout(request)
        return HttpResponseRedirect(safe_next(request.POST.get("next", "")))


class SignInView(View):
    """Sign in with GitLab for a page of this server; `next` must be one of them (no open redirect)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        next_path = safe_next(request.GET.get("next", ""))
        device = settings.GITLAB_OAUTH_FLOW == "device" or request.GET.get("leg") == "device"
        leg = GitLabConnection.Leg.DEVICE if device else GitLabConnection.Leg.CODE
        try:
            url = signin_begin_browser(request=request, next_path=next_path, leg=leg)
        except TooManySignIns as exc:
            headline = "Too many sign-ins at once"
            return error_page(request, str(exc), 429, headline=headline, code="too_many_signins", from_client=False)
        except SignInError as exc:  # a code asked for where only GitLab's redirect is allowed
            retry = browser_signin_url(next_path)
            return error_page(request, str(exc), 403, code="device_login_off", retry=retry, from_client=False)
        except GitLabOAuthError as exc:
            return no_device_code(request, exc, retry=browser_signin_url(next_path), from_client=False)
        return HttpResponseRedirect(url)


def admin_login(request: HttpRequest) -> HttpResponseBase:
    """Django admin's login (django.contrib.admin.sites.AdminSite.login) with "Sign in with GitLab"
    added: GitLab users named by ADMIN_GITLAB_USERS / ADMIN_GITLAB_GROUP come back as admins."""
    if request.method == "GET" and admin.site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index"))
    if request.method == "GET" and request.user.is_authenticated:
        # Signed in (with GitLab, most likely) but not an admin: what they may look for is theirs.
        # Rights from ADMIN_GITLAB_USERS / _GROUP are settled at a GitLab sign-in for these pages (an MCP
        # client's sign-in does not ask): offer one, for someone named since.
        gitlab_admins = settings.OAUTH_ENABLED and bool(settings.ADMIN_GITLAB_USERS or settings.ADMIN_GITLAB_GROUP)
        pointer = {
            "username": gitlab_username(request.user),
            "recheck_url": browser_signin_url(reverse("admin:index")) if gitlab_admins else "",
        }
        return render(request, "oauth_gateway/not_admin.html", pointer, status=403)
    next_path = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        # The device leg only with ADMIN_DEVICE_LOGIN: a code is easily phished (signin_begin_browser).
        "gitlab_signin_url": "" if settings.GITLAB_OAUTH_FLOW == "device" else browser_signin_url(next_path),
        "gitlab_device_url": browser_signin_url(next_path, "device") if settings.ADMIN_DEVICE_LOGIN else "",
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index")
    request.current_app = admin.site.name
    view = LoginView.as_view(
        template_name="admin/gitlab_login.html", authentication_form=AdminAuthenticationForm, extra_context=context
    )
    return view(request)
