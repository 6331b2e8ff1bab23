"""Users: Django's user admin (passwords, permissions) plus the GitLab identity, active connections and
last activity; "revoke everything" of a user. A user with connections is never deleted (the audit trail
points at their connections): revoke everything, or make them inactive."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from oauth_gateway.admin.common import (
    ObjectActionsAdmin,
    changelist,
    last_used,
    live_connections,
    on_object_page,
    web_link,
)
from oauth_gateway.models import AuditEvent, GitLabConnection


class GitLabUserAdmin(ObjectActionsAdmin, UserAdmin):
    list_display = (
        "username",
        "gitlab_id",
        "gitlab_username",
        "gitlab_name",
        "is_staff",
        "active_connections",
        "last_activity",
        "links",
    )
    list_select_related = ("gitlab",)
    search_fields = (*UserAdmin.search_fields, "gitlab__username")
    gitlab_fields = (
        "gitlab_id",
        "gitlab_username",
        "gitlab_name",
        "avatar",
        "active_connections",
        "last_activity",
        "links",
    )
    fieldsets = (*(UserAdmin.fieldsets or ()), ("GitLab", {"fields": gitlab_fields}))
    # Times the server sets (shown with their zone), never typed in.
    readonly_fields = (*gitlab_fields, "last_login", "date_joined")
    actions = ("revoke_everything",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        queryset = super().get_queryset(request).select_related("gitlab")
        return queryset.annotate(active_connections=live_connections("user"), last_activity=last_used("user"))

    @admin.display(description="GitLab id", ordering="gitlab__gitlab_id")
    def gitlab_id(self, user: User) -> int | None:
        identity = getattr(user, "gitlab", None)
        return identity.gitlab_id if identity else None

    @admin.display(description="GitLab username", ordering="gitlab__username")
    def gitlab_username(self, user: User) -> str:
        identity = getattr(user, "gitlab", None)
        return web_link(identity.web_url, identity.username) if identity else "—"

    @admin.display(description="name", ordering="gitlab__name")
    def gitlab_name(self, user: User) -> str:
        identity = getattr(user, "gitlab", None)
        return identity.name if identity else user.get_full_name()

    @admin.display(description="avatar")
    def avatar(self, user: User) -> str:
        identity = getattr(user, "gitlab", None)
        return web_link(identity.avatar_url, "avatar") if identity and identity.avatar_url else "—"

    @admin.display(description="active connections", ordering="active_connections")
    def active_connections(self, user: Any) -> int:
        return int(user.active_connections)

    @admin.display(description="last activity", ordering="last_activity")
    def last_activity(self, user: Any) -> Any:
        return user.last_activity

    @admin.display(description="links")
    def links(self, user: User) -> str:
        return format_html(
            '<a href="{}">connections</a> · <a href="{}">audit trail</a>',
            changelist(GitLabConnection, user__id__exact=user.pk),
            changelist(AuditEvent, user__id__exact=user.pk),
        )

    @on_object_page("Revoke everything of this user")
    @admin.action(description="Revoke all connections of the selected users", permissions=["revoke"])
    def revoke_everything(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        return self._revoke_users(request, queryset, queryset)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """A user who has connections is not deleted (their connections would go, and the audit trail points
        at them): the admin page names them as protected; revoke everything, or make the user
        inactive, instead."""
        names = GitLabConnection.objects.filter(user__in=objs).values_list("user__username", flat=True)
        kept = [f"{name}: has connections; revoke everything or make the user inactive instead" for name in {*names}]
        return ([], {}, set(), sorted(kept)) if kept else super().get_deleted_objects(objs, request)
