"""Connections (GitLabConnection): who signed in, with which client, how and when; revoke them, every
connection of their users, or their clients. Read-only otherwise: a connection is revoked, never edited or
deleted (the audit trail points at it; `prune` removes old ones)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from oauth_gateway.admin.common import (
    ConnectionStateFilter,
    ObjectActionsAdmin,
    changelist,
    names,
    on_object_page,
)
from oauth_gateway.admin.confirm import count
from oauth_gateway.models import Application, AuditEvent, GitLabConnection, gitlab_username
from oauth_gateway.services.connections import connection_revoke


class ConnectionAdmin(ObjectActionsAdmin):
    # Narrow enough for 1280 px beside the admin's sidebar; the rest is on the connection's page.
    list_display = ("connection", "user_name", "client", "leg", "created", "last_used", "ip", "state")
    list_display_links = ("connection",)
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        ("application", admin.RelatedOnlyFieldListFilter),
        ConnectionStateFilter,
        "leg",
    )
    search_fields = ("user__gitlab__username", "user__username", "application__name")
    search_help_text = "GitLab username, user name or client name"
    list_select_related = ("user__gitlab", "application")
    date_hierarchy = "created"
    ordering = ("-created",)
    # The detail page is read-only and never shows the encrypted GitLab tokens.
    fields = readonly_fields = (
        "user_name",
        "client",
        "registration",
        "leg",
        "gitlab_scopes",
        "created",
        "last_used",
        "gitlab_expires",
        "revoked",
        "ip",
        "user_agent",
        "mcp_tokens",
        "trail",
        "connection_trail",
    )
    actions = ("revoke_connections", "revoke_users", "disable_clients")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the audit trail points at it (`prune` removes old ones)

    def object_action_applies(self, obj: Any, action: str) -> bool:
        return obj.is_active() or action != "revoke_connections"

    @admin.display(description="connection", ordering="pk")
    def connection(self, connection: GitLabConnection) -> str:
        return f"#{connection.pk}"

    @admin.display(description="user", ordering="user__username")
    def user_name(self, connection: GitLabConnection) -> str:
        url = changelist(AuditEvent, user__id__exact=connection.user_id)
        name = gitlab_username(connection.user)
        return format_html('{} <a href="{}" title="{}\'s audit trail" class="trail">trail</a>', name, url, name)

    @admin.display(description="client", ordering="application__name")
    def client(self, connection: GitLabConnection) -> str:
        app = connection.application
        source = app.get_registration_source_display()
        return format_html(
            '<span title="{} · registered by {}">{}</span>', app.client_id, source, app.name or "(unnamed)"
        )

    @admin.display(description="registered by", ordering="application__registration_source")
    def registration(self, connection: GitLabConnection) -> str:
        return connection.application.get_registration_source_display()

    @admin.display(description="state", ordering="revoked")
    def state(self, connection: GitLabConnection) -> str:
        return "active" if connection.is_active() else "revoked"

    @admin.display(description="audit")
    def trail(self, connection: GitLabConnection) -> str:
        url = changelist(AuditEvent, user__id__exact=connection.user_id)
        return format_html('<a href="{}">audit trail of {}</a>', url, gitlab_username(connection.user))

    @admin.display(description="this connection's audit")
    def connection_trail(self, connection: GitLabConnection) -> str:
        url = changelist(AuditEvent, connection__id__exact=connection.pk)
        return format_html('<a href="{}">audit trail of this connection</a>', url)

    @admin.display(description="MCP tokens")
    def mcp_tokens(self, connection: GitLabConnection) -> str:
        access = connection.access_tokens.count()
        refresh = connection.refresh_tokens.filter(revoked__isnull=True).count()
        return f"{access} access token(s), {refresh} live refresh token(s)"

    @on_object_page("Revoke this connection")
    @admin.action(description="Revoke selected connections", permissions=["revoke"])
    def revoke_connections(self, request: HttpRequest, queryset: QuerySet[GitLabConnection]) -> Any:
        live = queryset.filter(revoked__isnull=True).select_related("user__gitlab", "application").order_by("pk")
        if not live.exists():
            self.message_user(request, "Nothing to revoke: the selected connections have ended already.")
            return None
        users = sorted({gitlab_username(connection.user) for connection in live})
        asking = self.confirm(
            request,
            live,
            question=f"Revoke {count(len(live), 'connection')} of {count(len(users), 'user')}?",
            consequences=[
                f"The clients signed in as {names(users)} in these connections must sign in again.",
                "Their MCP tokens stop working at once, and their GitLab tokens are revoked at GitLab.",
                "Each ended connection is written to the audit log.",
            ],
            objects=live,
            button="Yes, revoke",
        )
        if asking:
            return asking
        ended = sum(
            connection_revoke(connection=connection, by=AuditEvent.Actor.ADMIN, actor_id=request.user.pk)
            for connection in live
        )
        self.message_user(request, f"Revoked {count(ended, 'connection')}.")
        return None

    @on_object_page("Revoke every connection of this user")
    @admin.action(description="Revoke all connections of the selected connections' users", permissions=["revoke"])
    def revoke_users(self, request: HttpRequest, queryset: QuerySet[GitLabConnection]) -> Any:
        return self._revoke_users(request, queryset, User.objects.filter(pk__in=queryset.values("user_id")))

    @on_object_page("Disable this client")
    @admin.action(description="Disable the clients of the selected connections", permissions=["disable"])
    def disable_clients(self, request: HttpRequest, queryset: QuerySet[GitLabConnection]) -> Any:
        clients = Application.objects.filter(pk__in=queryset.values("application_id"))
        return self._disable_clients(request, queryset, clients)
