"""Clients (DOT's Application): registered ones, their connections and state; disable, enable, verify.
No form field that weakens a client (skip authorization, grants this server does not serve, OIDC's
algorithm) and no secret, not even hashed. Disabled, never deleted: the audit trail points at them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from oauth_gateway.admin.common import (
    ClientStateFilter,
    ObjectActionsAdmin,
    changelist,
    last_used,
    live_connections,
    names,
    on_object_page,
)
from oauth_gateway.admin.confirm import count
from oauth_gateway.models import Application, AuditEvent, GitLabConnection
from oauth_gateway.services.clients import application_enable, application_verify


class ClientAdmin(ObjectActionsAdmin):
    list_display = (
        "name",
        "short_client_id",
        "client_type",
        "registration_source",
        "created",
        "active_connections",
        "last_use",
        "state",
    )
    list_filter = ("client_type", "registration_source", ClientStateFilter)
    search_fields = ("name", "client_id")
    ordering = ("-created",)
    raw_id_fields = ("user",)
    # Never in a form: the secret (not even hashed), and the toolkit's fields that would weaken a
    # client: skip_authorization (no consent page), OIDC's algorithm and logout URIs, CORS origins.
    exclude = (
        "client_secret",
        "hash_client_secret",
        "skip_authorization",
        "algorithm",
        "post_logout_redirect_uris",
        "allowed_origins",
    )
    # The grants this server serves; password, implicit and client credentials are not offered.
    GRANTS = (Application.GRANT_AUTHORIZATION_CODE, Application.GRANT_DEVICE_CODE)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "authorization_grant_type":
            kwargs["choices"] = [c for c in db_field.choices if c[0] in self.GRANTS]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    readonly_fields = (
        "client_id",
        "secret",
        "registration_source",
        "cimd_expires_at",
        "registration_ip",
        "disabled",
        "verified",
        "created",
        "updated",
        "active_connections",
        "last_use",
        "connections",
    )
    actions = ("disable_clients", "enable_clients", "verify_clients", "unverify_clients")
    view_on_site = False  # the toolkit's get_absolute_url names a page this server does not have

    def object_action_applies(self, obj: Any, action: str) -> bool:
        if action in ("verify_clients", "unverify_clients"):
            manual = obj.registration_source == Application.RegistrationSource.MANUAL
            return not manual and (action == "unverify_clients") == bool(obj.verified)
        return (action == "enable_clients") == bool(obj.disabled)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        queryset = super().get_queryset(request)
        return queryset.annotate(active_connections=live_connections("application"), last_use=last_used("application"))

    @admin.display(description="client id", ordering="client_id")
    def short_client_id(self, app: Application) -> str:
        return format_html('<code title="{}">{}…</code>', app.client_id, app.client_id[:12])

    @admin.display(description="client secret")
    def secret(self, app: Application) -> str:
        return "•••" if app.client_type == Application.CLIENT_CONFIDENTIAL and app.client_secret else "—"

    @admin.display(description="active connections", ordering="active_connections")
    def active_connections(self, app: Any) -> int:
        return int(app.active_connections) if app.pk else 0

    @admin.display(description="last use", ordering="last_use")
    def last_use(self, app: Any) -> Any:
        return getattr(app, "last_use", None)

    @admin.display(description="state", ordering="disabled")
    def state(self, app: Application) -> str:
        trust = " · unverified" if app.is_unverified() else ""
        return ("disabled" if app.disabled else "enabled") + trust

    @admin.display(description="connections")
    def connections(self, app: Application) -> str:
        url = changelist(GitLabConnection, application__id__exact=app.pk)
        return format_html('<a href="{}">connections of this client</a>', url) if app.pk else "—"

    @on_object_page("Disable this client")
    @admin.action(description="Disable selected clients (their connections end)", permissions=["disable"])
    def disable_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> Any:
        return self._disable_clients(request, queryset, queryset)

    @on_object_page("Enable this client")
    @admin.action(description="Enable selected clients", permissions=["disable"])
    def enable_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> Any:
        disabled = queryset.filter(disabled__isnull=False).order_by("name")
        if not disabled.exists():
            self.message_user(request, "Nothing to enable: those clients are enabled already.")
            return None
        asking = self.confirm(
            request,
            disabled,
            question=f"Enable {count(len(disabled), 'client')}?",
            consequences=["Their users can sign in with them again (ended connections stay ended). This is audited."],
            objects=disabled,
            button="Yes, enable",
        )
        if asking:
            return asking
        enabled = sum(
            application_enable(application=app, by=AuditEvent.Actor.ADMIN, actor_id=request.user.pk) for app in disabled
        )
        self.message_user(request, f"Enabled {count(enabled, 'client')}.")
        return None

    @on_object_page("Mark this client verified")
    @admin.action(
        description="Mark selected clients verified (consent stops calling them unverified)", permissions=["disable"]
    )
    def verify_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> Any:
        return self._verify(request, queryset, verified=True)

    @on_object_page("Mark this client unverified")
    @admin.action(description="Mark selected clients unverified", permissions=["disable"])
    def unverify_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> Any:
        return self._verify(request, queryset, verified=False)

    def _verify(self, request: HttpRequest, queryset: QuerySet[Application], *, verified: bool) -> Any:
        word = "verified" if verified else "unverified"
        changing = queryset.exclude(registration_source=Application.RegistrationSource.MANUAL)
        changing = changing.filter(verified__isnull=verified).order_by("name")
        if not changing.exists():
            self.message_user(request, f"Nothing to change: those clients are {word} already, or registered by hand.")
            return None
        consequence = (
            f"The consent page stops warning that {names(app.name for app in changing)} chose their own names."
            if verified
            else "The consent page warns again that these clients chose their own names."
        )
        asking = self.confirm(
            request,
            changing,
            question=f"Mark {count(len(changing), 'client')} {word}?",
            consequences=[consequence, "This is audited."],
            objects=changing,
            button=f"Yes, mark {word}",
        )
        if asking:
            return asking
        done = sum(
            application_verify(application=app, verified=verified, by=AuditEvent.Actor.ADMIN, actor_id=request.user.pk)
            for app in changing
        )
        self.message_user(request, f"Marked {count(done, 'client')} {word}.")
        return None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # disabled instead ("Disable this client"): the audit trail points at it
