"""The admin site is set up once, in OAuthGatewayConfig.ready() (oauth_gateway.admin.install), not as a
side effect of importing the admin modules."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import User

from oauth_gateway.admin import CREDENTIALS, OURS, ClientAdmin, install
from oauth_gateway.models import Application


def test_the_default_site_has_ours_and_no_credential_pages():
    assert {model: type(model_admin) for model, model_admin in admin.site._registry.items() if model in OURS} == OURS
    assert not any(admin.site.is_registered(model) for model in CREDENTIALS)
    assert admin.site.site_header == "GitLab MCP administration" and not admin.site.enable_nav_sidebar


def test_install_replaces_the_admins_a_site_already_has():
    site = admin.AdminSite(name="fresh")
    site.register(User)
    site.register(Application)
    site.register(CREDENTIALS[0])
    install(site)
    assert isinstance(site._registry[Application], ClientAdmin)
    assert set(site._registry) == set(OURS)
    assert site.site_title == "GitLab MCP administration"
