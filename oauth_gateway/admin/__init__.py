"""The admin: connections, users, clients and the audit log (DESIGN.md §4, issue 4), one module each.

Every action ends in a service of oauth_gateway.services.connections, so the admin revokes exactly
as the self-service page, the revoke command, /revoke and refresh-reuse detection do, and each
revocation writes its audit event; each action asks first, with counts (confirm.py). No page shows a
token, a token hash, a client secret or a GitLab token: encrypted fields and secrets are left out of
every list and form, and django-oauth-toolkit's own credential admins (codes, token values and
checksums) are unregistered.
"""

from django.contrib import admin

from oauth_gateway.admin import audit, clients, connections, users
from oauth_gateway.models import AccessToken, DeviceGrant, Grant, IDToken, RefreshToken

__all__ = ["audit", "clients", "connections", "users"]

admin.site.site_header = admin.site.site_title = "GitLab MCP administration"
# The lists need the width of a laptop (1280 px); the home page and breadcrumbs lead to all four.
admin.site.enable_nav_sidebar = False

# Codes, token values and checksums: no page for them (connections are where tokens are ended).
for _model in (Grant, AccessToken, RefreshToken, IDToken, DeviceGrant):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
