"""The admin: connections, users, clients and the audit log, one module each (docs/ARCHITECTURE.md).

Every action ends in a service of oauth_gateway.services (connections, clients), so the admin
revokes exactly as the self-service page, the revoke command and refresh-reuse detection do, and each
revocation writes its audit event; each action asks first, with counts (confirm.py). No page shows a
token, a token hash, a client secret or a GitLab token: encrypted fields and secrets are left out of
every list and form, and django-oauth-toolkit's own credential admins (codes, token values and
checksums) are unregistered.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model

from oauth_gateway.admin.audit import AuditEventAdmin
from oauth_gateway.admin.clients import ClientAdmin
from oauth_gateway.admin.connections import ConnectionAdmin
from oauth_gateway.admin.users import GitLabUserAdmin
from oauth_gateway.models import (
    AccessToken,
    Application,
    AuditEvent,
    DeviceGrant,
    GitLabConnection,
    Grant,
    IDToken,
    RefreshToken,
)

__all__ = ["AuditEventAdmin", "ClientAdmin", "ConnectionAdmin", "GitLabUserAdmin", "install"]

# Codes, token values and checksums: no page for them (connections are where tokens are ended).
CREDENTIALS: tuple[type[Model], ...] = (Grant, AccessToken, RefreshToken, IDToken, DeviceGrant)
# Ours replace Django's user admin and the toolkit's application admin.
OURS: dict[type[Model], type[admin.ModelAdmin[Any]]] = {
    GitLabConnection: ConnectionAdmin,
    User: GitLabUserAdmin,
    Application: ClientAdmin,
    AuditEvent: AuditEventAdmin,
}


def install(site: admin.AdminSite = admin.site) -> None:
    """Set up the admin site: called from OAuthGatewayConfig.ready(), which runs after the admin's
    autodiscover (django.contrib.admin comes first in INSTALLED_APPS) has imported every app's
    admin module, Django's auth and the toolkit's included, so theirs can be replaced here."""
    site.site_header = site.site_title = "GitLab MCP administration"
    # The lists need the width of a laptop (1280 px); the home page and breadcrumbs lead to all four.
    site.enable_nav_sidebar = False
    for model in (*CREDENTIALS, *OURS):
        if site.is_registered(model):
            site.unregister(model)
    for model, model_admin in OURS.items():
        site.register(model, model_admin)
