from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from config.api import api
from oauth_gateway.landing import landing

urlpatterns: list[URLPattern | URLResolver] = [
    path("", landing, name="landing"),  # browsers only; MCP on / never reaches Django (config.asgi)
    path("admin/", admin.site.urls),
    path("", api.urls),
]

if settings.OAUTH_ENABLED:
    from oauth_gateway import device_flow
    from oauth_gateway.views import protocol, selfservice, signin

    # Before admin.site.urls: the admin's login page, with "Sign in with GitLab" added.
    urlpatterns.insert(0, path("admin/login/", selfservice.admin_login, name="admin-login"))

    # Named as django-oauth-toolkit expects (its metadata and registration views reverse these).
    oauth_patterns = [
        path("authorize", signin.AuthorizeView.as_view(), name="authorize"),
        path("token", protocol.TokenView.as_view(), name="token"),
        path("revoke", protocol.RevokeView.as_view(), name="revoke-token"),
        path("device_authorization", device_flow.DeviceAuthorizationView.as_view(), name="device-authorization"),
        path("register", protocol.RegisterView.as_view(), name="dcr-register"),
        path(
            "register/<str:client_id>",
            protocol.RegisterManagementView.as_view(),
            name="dcr-register-management",
        ),
        path(
            ".well-known/oauth-authorization-server",
            protocol.ServerMetadataView.as_view(),
            name="oauth-server-metadata",
        ),
        path(
            ".well-known/oauth-protected-resource",
            protocol.ResourceMetadataView.as_view(),
            name="oauth-protected-resource-metadata",
        ),
        path(
            ".well-known/oauth-protected-resource/mcp",
            protocol.ResourceMetadataView.as_view(path_suffix=settings.MCP_PATH),
        ),
    ]
    urlpatterns += [
        path("", include((oauth_patterns, "oauth2_provider"))),
        path("oauth/signin", signin.SignInView.as_view(), name="oauth-signin"),
        path("oauth/switch-account", signin.SwitchAccountView.as_view(), name="oauth-switch-account"),
        path("oauth/callback", signin.CallbackView.as_view(), name="oauth-callback"),
        path("oauth/device/<uuid:pending_id>", signin.DeviceView.as_view(), name="oauth-device"),
        path("connections/", selfservice.ConnectionsView.as_view(), name="connections"),
        path("connections/signin", selfservice.SignInView.as_view(), name="connections-signin"),
        path("connections/signout", selfservice.SignOutView.as_view(), name="connections-signout"),
        path(
            "connections/<int:connection_id>/disconnect",
            selfservice.DisconnectView.as_view(),
            name="connections-disconnect",
        ),
    ]
