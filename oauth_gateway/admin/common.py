"""What the admin's pages share: links between them, the per-row connection counts, the state filters,
and actions that are also buttons on an object's page, each confirmed before it acts (confirm.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from oauth_gateway.admin.confirm import confirmation, confirmed, count
from oauth_gateway.models import Application, AuditEvent, GitLabConnection, gitlab_username
from oauth_gateway.services.clients import application_disable
from oauth_gateway.services.connections import user_revoke_all


def changelist(model: type[Any], **filters: Any) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())  # ids only: nothing to escape
    return f"{url}?{query}" if query else url


def web_link(url: str, text: str) -> str:
    if not url.startswith(("https://", "http://")):  # no javascript: or data: links from a profile
        return text
    return format_html('<a href="{}" rel="noreferrer">{}</a>', url, text)


def live_connections(outer: str) -> Coalesce:
    """Active connections per user or client, counted only for the rows on the page."""
    live = GitLabConnection.objects.filter(**{outer: OuterRef("pk")}, revoked__isnull=True).order_by()
    return Coalesce(Subquery(live.values(outer).annotate(n=Count("pk")).values("n")), 0)


def last_used(outer: str) -> Subquery:
    """MAX(last_used) per user or client: one backward step on the (outer, last_used) index."""
    used = GitLabConnection.objects.filter(**{outer: OuterRef("pk")}).order_by()
    return Subquery(used.values(outer).annotate(last=Max("last_used")).values("last"))


def names(items: Iterable[str], shown: int = 5) -> str:
    """'alice, bob and 3 more'."""
    items = list(items)
    if len(items) <= shown:
        return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + (items[-1] if items else "")
    return f"{', '.join(items[:shown])} and {len(items) - shown} more"


def on_object_page(label: str) -> Callable[[Any], Any]:
    """Also offer a list action as a button on the object's page, acting on that one object."""

    def mark(action: Any) -> Any:
        action.object_label = label
        return action

    return mark


class ObjectActionsAdmin(admin.ModelAdmin):
    """Buttons on an object's page that POST (CSRF-checked) to one of the admin's list actions.

    Every action asks first (`confirm`): the first POST shows what will happen, the confirmed one acts.
    """

    change_form_template = "admin/oauth_gateway/change_form_object_actions.html"

    @property
    def object_actions(self) -> tuple[str, ...]:
        """The list actions also offered as a button on an object's page: those marked @on_object_page."""
        return tuple(
            name
            for name in self.actions or ()
            if isinstance(name, str) and hasattr(getattr(self, name, None), "object_label")
        )

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_object_action"
        view = self.admin_site.admin_view(require_POST(self.object_action_view))
        # Before the admin's own "<path:object_id>/" catch-all.
        return [path("<path:object_id>/do/<str:action>/", view, name=name), *super().get_urls()]

    def object_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if action not in self.object_actions:
            raise Http404("No such action.")
        if action not in self.get_actions(request):  # filtered by the action's allowed_permissions
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such object.")
        response = getattr(self, action)(request, self.get_queryset(request).filter(pk=obj.pk))
        return response or redirect(self._change_url(obj.pk))

    def render_change_form(self, request: Any, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        obj, allowed = kwargs.get("obj"), self.get_actions(request)
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_object_action"
        context["object_actions"] = [
            {"label": getattr(self, action).object_label, "url": reverse(name, args=[quote(obj.pk), action])}
            for action in self.object_actions
            if obj is not None and action in allowed and self.object_action_applies(obj, action)
        ]
        return super().render_change_form(request, context, *args, **kwargs)

    def object_action_applies(self, obj: Any, action: str) -> bool:
        """Whether the button makes sense for this object now (e.g. no "revoke" on a revoked one)."""
        return True

    def confirm(
        self,
        request: HttpRequest,
        selected: QuerySet[Any],
        *,
        question: str,
        consequences: Iterable[str],
        objects: Iterable[Any],
        button: str,
    ) -> TemplateResponse | None:
        """None once the admin confirmed (act now); until then the page that asks."""
        if confirmed(request):
            return None
        match = request.resolver_match
        object_id = match.kwargs.get("object_id") if match else None
        back = self._change_url(unquote(object_id)) if object_id else request.get_full_path()
        pks = list(selected.values_list("pk", flat=True))
        return confirmation(
            self,
            request,
            question=question,
            consequences=consequences,
            objects=objects,
            selected=pks,
            button=button,
            back=back,
        )

    def _change_url(self, pk: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(pk)])

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("oauth_gateway.change_gitlabconnection")

    def has_disable_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("oauth_gateway.change_application")

    def _revoke_users(self, request: HttpRequest, selection: QuerySet[Any], users: QuerySet[User]) -> Any:
        users = users.select_related("gitlab").order_by("username")
        live = GitLabConnection.objects.filter(user__in=users, revoked__isnull=True).select_related(
            "user__gitlab", "application"
        )
        if not live.exists():
            who = names(gitlab_username(user) for user in users)
            self.message_user(request, f"Nothing to revoke: {who or 'nobody'} has no active connection.")
            return None
        users_named = [gitlab_username(user) for user in users if any(s.user_id == user.pk for s in live)]
        asking = self.confirm(
            request,
            selection,
            question=f"Revoke all {count(len(live), 'connection')} of {count(len(users_named), 'user')}?",
            consequences=[
                f"Every client signed in as {names(users_named)} must sign in again.",
                "Their MCP tokens stop working at once, and their GitLab tokens are revoked at GitLab.",
                "Each ended connection is written to the audit log.",
            ],
            objects=live.order_by("user__username", "-created"),
            button="Yes, revoke them",
        )
        if asking:
            return asking
        ended = sum(user_revoke_all(user=user, by=AuditEvent.Actor.ADMIN, actor_id=request.user.pk) for user in users)
        self.message_user(request, f"Revoked {count(ended, 'connection')} of {count(len(users), 'user')}.")
        return None

    def _disable_clients(self, request: HttpRequest, selection: QuerySet[Any], clients: QuerySet[Application]) -> Any:
        clients = clients.filter(disabled__isnull=True).order_by("name")
        if not clients.exists():
            self.message_user(request, "Nothing to disable: those clients are disabled already.")
            return None
        live = GitLabConnection.objects.filter(application__in=clients, revoked__isnull=True)
        connections = live.count()
        ending = f" and end their {count(connections, 'active connection')}" if connections else ""
        asking = self.confirm(
            request,
            selection,
            question=f"Disable {count(len(clients), 'client')}{ending}?",
            consequences=[
                "A disabled client cannot sign in or use its tokens; its users see that an administrator disabled it.",
                f"{count(connections, 'active connection')} end now: MCP tokens stop working, GitLab tokens are "
                "revoked.",
                "You can enable a client again later; its users then sign in again. Both are audited.",
            ],
            objects=clients,
            button="Yes, disable",
        )
        if asking:
            return asking
        ended = sum(
            application_disable(application=app, by=AuditEvent.Actor.ADMIN, actor_id=request.user.pk) for app in clients
        )
        self.message_user(request, f"Disabled {count(len(clients), 'client')}; {count(ended, 'connection')} ended.")
        return None


class ConnectionStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked__isnull=self.value() == "active")
        return queryset


class ClientStateFilter(ConnectionStateFilter):
    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("enabled", "enabled"), ("disabled", "disabled")]

    def queryset(self, request: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("enabled", "disabled"):
            return queryset.filter(disabled__isnull=self.value() == "enabled")
        return queryset
