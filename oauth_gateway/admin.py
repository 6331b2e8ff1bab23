"""The admin: sessions, users, clients and the audit log (DESIGN.md §4, issue 4).

Every action ends in a service of oauth_gateway.services.connections, so the admin revokes exactly
as the self-service page, the revoke command, /revoke and refresh-reuse detection do, and each
revocation writes its audit event. No page shows a token, a token hash, a client secret or a GitLab
token: encrypted fields and secrets are left out of every list and form, and django-oauth-toolkit's
own credential admins (codes, token values and checksums) are unregistered.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

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
from oauth_gateway.services.connections import (
    application_disable,
    application_enable,
    application_verify,
    connection_revoke,
    user_revoke_all,
)

admin.site.site_header = admin.site.site_title = "GitLab MCP administration"

# Codes, token values and checksums: no page for them (sessions are where tokens are ended).
for _model in (Grant, AccessToken, RefreshToken, IDToken, DeviceGrant):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _changelist(model: type[Any], **filters: Any) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())  # ids only: nothing to escape
    return f"{url}?{query}" if query else url


def _links(user_id: int) -> str:
    return format_html(
        '<a href="{}">sessions</a> · <a href="{}">audit trail</a>',
        _changelist(GitLabConnection, user__id__exact=user_id),
        _changelist(AuditEvent, user__id__exact=user_id),
    )


def _web_link(url: str, text: str) -> str:
    if not url.startswith(("https://", "http://")):  # no javascript: or data: links from a profile
        return text
    return format_html('<a href="{}" rel="noreferrer">{}</a>', url, text)


def _live_sessions(outer: str) -> Coalesce:
    """Active sessions per user or client, counted only for the rows on the page."""
    live = GitLabConnection.objects.filter(**{outer: OuterRef("pk")}, revoked__isnull=True).order_by()
    return Coalesce(Subquery(live.values(outer).annotate(n=Count("pk")).values("n")), 0)


def _last_used(outer: str) -> Subquery:
    """MAX(last_used) per user or client: one backward step on the (outer, last_used) index."""
    used = GitLabConnection.objects.filter(**{outer: OuterRef("pk")}).order_by()
    return Subquery(used.values(outer).annotate(last=Max("last_used")).values("last"))


def on_object_page(label: str) -> Callable[[Any], Any]:
    """Also offer a list action as a button on the object's page, acting on that one object."""

    def mark(action: Any) -> Any:
        action.object_label = label
        return action

    return mark


class ObjectActionsAdmin(admin.ModelAdmin):
    """Buttons on an object's page that POST (CSRF-checked) to one of the admin's list actions."""

    object_actions: tuple[str, ...] = ()
    change_form_template = "admin/oauth_gateway/change_form_object_actions.html"

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
        getattr(self, action)(request, self.get_queryset(request).filter(pk=obj.pk))
        return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)]))

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

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("oauth_gateway.change_gitlabconnection")

    def has_disable_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("oauth_gateway.change_application")

    def _revoke_users(self, request: HttpRequest, users: QuerySet[User]) -> None:
        ended = sum(user_revoke_all(user=user, by="admin", actor_id=request.user.pk) for user in users)
        self.message_user(request, f"Ended {ended} session(s) of {len(users)} user(s).")

    def _disable_clients(self, request: HttpRequest, clients: QuerySet[Application]) -> None:
        ended = sum(application_disable(application=app, by="admin", actor_id=request.user.pk) for app in clients)
        self.message_user(request, f"Disabled {len(clients)} client(s); {ended} session(s) ended.")


class SessionStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked__isnull=self.value() == "active")
        return queryset


class ClientStateFilter(SessionStateFilter):
    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("enabled", "enabled"), ("disabled", "disabled")]

    def queryset(self, request: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("enabled", "disabled"):
            return queryset.filter(disabled__isnull=self.value() == "enabled")
        return queryset


@admin.register(GitLabConnection)
class SessionAdmin(ObjectActionsAdmin):
    list_display = (
        "pk",
        "user_name",
        "client",
        "registration",
        "leg",
        "created",
        "last_used",
        "gitlab_expires",
        "ip",
        "agent",
        "state",
        "trail",
    )
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        ("application", admin.RelatedOnlyFieldListFilter),
        SessionStateFilter,
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
        "session_trail",
    )
    actions = ("revoke_sessions", "revoke_users", "disable_clients")
    object_actions = ("revoke_sessions", "revoke_users", "disable_clients")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the audit trail points at it (`prune` removes old ones)

    def object_action_applies(self, obj: Any, action: str) -> bool:
        return obj.is_active() or action != "revoke_sessions"

    @admin.display(description="user", ordering="user__username")
    def user_name(self, session: GitLabConnection) -> str:
        identity = getattr(session.user, "gitlab", None)
        return identity.username if identity else session.user.username

    @admin.display(description="client", ordering="application__name")
    def client(self, session: GitLabConnection) -> str:
        app = session.application
        return format_html("{} <code>{}…</code>", app.name or "(unnamed)", app.client_id[:8])

    @admin.display(description="registered by", ordering="application__registration_source")
    def registration(self, session: GitLabConnection) -> str:
        return session.application.get_registration_source_display()

    @admin.display(description="user agent")
    def agent(self, session: GitLabConnection) -> str:
        text = session.user_agent
        return format_html('<span title="{}">{}</span>', text, text[:40] + ("…" if len(text) > 40 else ""))

    @admin.display(description="state", ordering="revoked")
    def state(self, session: GitLabConnection) -> str:
        return "active" if session.is_active() else "revoked"

    @admin.display(description="audit")
    def trail(self, session: GitLabConnection) -> str:
        return format_html('<a href="{}">audit trail</a>', _changelist(AuditEvent, user__id__exact=session.user_id))

    @admin.display(description="this session's audit")
    def session_trail(self, session: GitLabConnection) -> str:
        url = _changelist(AuditEvent, connection__id__exact=session.pk)
        return format_html('<a href="{}">audit trail of this session</a>', url)

    @admin.display(description="MCP tokens")
    def mcp_tokens(self, session: GitLabConnection) -> str:
        access = session.access_tokens.count()
        refresh = session.refresh_tokens.filter(revoked__isnull=True).count()
        return f"{access} access token(s), {refresh} live refresh token(s)"

    @on_object_page("Revoke this session")
    @admin.action(description="Revoke selected sessions", permissions=["revoke"])
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet[GitLabConnection]) -> None:
        live = queryset.filter(revoked__isnull=True).order_by("pk")
        ended = sum(connection_revoke(connection=session, by="admin", actor_id=request.user.pk) for session in live)
        self.message_user(request, f"Revoked {ended} session(s).")

    @on_object_page("Revoke every session of this user")
    @admin.action(description="Revoke all sessions of the selected sessions' users", permissions=["revoke"])
    def revoke_users(self, request: HttpRequest, queryset: QuerySet[GitLabConnection]) -> None:
        self._revoke_users(request, User.objects.filter(pk__in=queryset.values("user_id")).order_by("pk"))

    @on_object_page("Disable this client")
    @admin.action(description="Disable the clients of the selected sessions", permissions=["disable"])
    def disable_clients(self, request: HttpRequest, queryset: QuerySet[GitLabConnection]) -> None:
        self._disable_clients(request, Application.objects.filter(pk__in=queryset.values("application_id")))


admin.site.unregister(User)


@admin.register(User)
class GitLabUserAdmin(ObjectActionsAdmin, UserAdmin):
    """Django's user admin (passwords, permissions) plus the GitLab identity and sessions."""

    list_display = (
        "username",
        "gitlab_id",
        "gitlab_username",
        "gitlab_name",
        "avatar",
        "is_staff",
        "active_sessions",
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
        "active_sessions",
        "last_activity",
        "links",
    )
    fieldsets = (*(UserAdmin.fieldsets or ()), ("GitLab", {"fields": gitlab_fields}))
    readonly_fields = gitlab_fields
    actions = ("revoke_everything",)
    object_actions = ("revoke_everything",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        queryset = super().get_queryset(request).select_related("gitlab")
        return queryset.annotate(active_sessions=_live_sessions("user"), last_activity=_last_used("user"))

    @admin.display(description="GitLab id", ordering="gitlab__gitlab_id")
    def gitlab_id(self, user: User) -> int | None:
        identity = getattr(user, "gitlab", None)
        return identity.gitlab_id if identity else None

    @admin.display(description="GitLab username", ordering="gitlab__username")
    def gitlab_username(self, user: User) -> str:
        identity = getattr(user, "gitlab", None)
        return _web_link(identity.web_url, identity.username) if identity else "—"

    @admin.display(description="name", ordering="gitlab__name")
    def gitlab_name(self, user: User) -> str:
        identity = getattr(user, "gitlab", None)
        return identity.name if identity else user.get_full_name()

    @admin.display(description="avatar")
    def avatar(self, user: User) -> str:
        identity = getattr(user, "gitlab", None)
        return _web_link(identity.avatar_url, "avatar") if identity and identity.avatar_url else "—"

    @admin.display(description="active sessions", ordering="active_sessions")
    def active_sessions(self, user: Any) -> int:
        return int(user.active_sessions)

    @admin.display(description="last activity", ordering="last_activity")
    def last_activity(self, user: Any) -> Any:
        return user.last_activity

    @admin.display(description="links")
    def links(self, user: User) -> str:
        return _links(user.pk)

    @on_object_page("Revoke everything of this user")
    @admin.action(description="Revoke all sessions of the selected users", permissions=["revoke"])
    def revoke_everything(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._revoke_users(request, queryset)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """A user who has sessions is not deleted (their sessions would go, and the audit trail points
        at them): the admin page names them as protected; revoke everything, or make the user
        inactive, instead."""
        names = GitLabConnection.objects.filter(user__in=objs).values_list("user__username", flat=True)
        kept = [f"{name}: has sessions; revoke everything or make the user inactive instead" for name in {*names}]
        return ([], {}, set(), sorted(kept)) if kept else super().get_deleted_objects(objs, request)


if admin.site.is_registered(Application):
    admin.site.unregister(Application)


@admin.register(Application)
class ClientAdmin(ObjectActionsAdmin):
    list_display = (
        "name",
        "short_client_id",
        "client_type",
        "registration_source",
        "created",
        "active_sessions",
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
        "active_sessions",
        "last_use",
        "sessions",
    )
    actions = ("disable_clients", "enable_clients", "verify_clients", "unverify_clients")
    object_actions = ("disable_clients", "enable_clients", "verify_clients", "unverify_clients")
    view_on_site = False  # the toolkit's get_absolute_url names a page this server does not have

    def object_action_applies(self, obj: Any, action: str) -> bool:
        if action in ("verify_clients", "unverify_clients"):
            manual = obj.registration_source == Application.RegistrationSource.MANUAL
            return not manual and (action == "unverify_clients") == bool(obj.verified)
        return (action == "enable_clients") == bool(obj.disabled)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        queryset = super().get_queryset(request)
        return queryset.annotate(active_sessions=_live_sessions("application"), last_use=_last_used("application"))

    @admin.display(description="client id", ordering="client_id")
    def short_client_id(self, app: Application) -> str:
        return format_html('<code title="{}">{}…</code>', app.client_id, app.client_id[:12])

    @admin.display(description="client secret")
    def secret(self, app: Application) -> str:
        return "•••" if app.client_type == Application.CLIENT_CONFIDENTIAL and app.client_secret else "—"

    @admin.display(description="active sessions", ordering="active_sessions")
    def active_sessions(self, app: Any) -> int:
        return int(app.active_sessions) if app.pk else 0

    @admin.display(description="last use", ordering="last_use")
    def last_use(self, app: Any) -> Any:
        return getattr(app, "last_use", None)

    @admin.display(description="state", ordering="disabled")
    def state(self, app: Application) -> str:
        trust = " · unverified" if app.is_unverified() else ""
        return ("disabled" if app.disabled else "enabled") + trust

    @admin.display(description="sessions")
    def sessions(self, app: Application) -> str:
        url = _changelist(GitLabConnection, application__id__exact=app.pk)
        return format_html('<a href="{}">sessions of this client</a>', url) if app.pk else "—"

    @on_object_page("Disable this client")
    @admin.action(description="Disable selected clients (their sessions end)", permissions=["disable"])
    def disable_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        self._disable_clients(request, queryset)

    @on_object_page("Enable this client")
    @admin.action(description="Enable selected clients", permissions=["disable"])
    def enable_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        enabled = sum(application_enable(application=app, by="admin", actor_id=request.user.pk) for app in queryset)
        self.message_user(request, f"Enabled {enabled} client(s).")

    @on_object_page("Mark this client verified")
    @admin.action(
        description="Mark selected clients verified (consent stops calling them unverified)", permissions=["disable"]
    )
    def verify_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        done = sum(
            application_verify(application=app, verified=True, by="admin", actor_id=request.user.pk) for app in queryset
        )
        self.message_user(request, f"Marked {done} client(s) verified.")

    @on_object_page("Mark this client unverified")
    @admin.action(description="Mark selected clients unverified", permissions=["disable"])
    def unverify_clients(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        done = sum(
            application_verify(application=app, verified=False, by="admin", actor_id=request.user.pk)
            for app in queryset
        )
        self.message_user(request, f"Marked {done} client(s) unverified.")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # disabled instead ("Disable this client"): the audit trail points at it


CSV_COLUMNS = (
    "time",
    "kind",
    "outcome",
    "user",
    "client",
    "tool",
    "project",
    "gitlab_status",
    "duration_ms",
    "ip",
    "detail",
)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: nobody adds, changes or deletes audit rows here, superusers included."""

    list_display = (
        "created",
        "kind",
        "outcome",
        "user_link",
        "client",
        "tool",
        "project",
        "gitlab_status",
        "duration_ms",
        "ip",
        "detail_json",
    )
    list_display_links = None  # there is no change page
    list_filter = (
        "user",
        ("application", admin.RelatedOnlyFieldListFilter),
        "kind",
        "tool",
        "project",
        "outcome",
    )
    search_fields = ("kind", "tool", "project", "user__username")
    search_help_text = "kind, tool, project or user name"
    list_select_related = ("user", "application")
    date_hierarchy = "created"
    ordering = ("-created",)
    list_per_page = 100
    show_full_result_count = False  # one COUNT over 100,000 rows per page view is enough
    show_facets = admin.ShowFacets.NEVER  # per-choice counts over every filter: too slow here

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raise PermissionDenied  # not even a read-only form: the list shows everything

    def get_urls(self) -> list[URLPattern]:
        export = path("export.csv", self.admin_site.admin_view(self.export_csv), name="oauth_gateway_auditevent_export")
        return [export, *super().get_urls()]

    @admin.display(description="user", ordering="user__username")
    def user_link(self, event: AuditEvent) -> str:
        if event.user is None:
            return "—"
        url = _changelist(AuditEvent, user__id__exact=event.user_id)
        return format_html('<a href="{}" title="this user\'s trail">{}</a>', url, event.user.username)

    @admin.display(description="client", ordering="application__name")
    def client(self, event: AuditEvent) -> str:
        return event.application.name if event.application else "—"

    @admin.display(description="detail")
    def detail_json(self, event: AuditEvent) -> str:
        return format_html("<code>{}</code>", _json(event.detail)) if event.detail else ""

    def export_csv(self, request: HttpRequest) -> HttpResponseBase:
        """The changelist's rows (same filters, search, dates and order), every page, as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.copy()
        query.pop(PAGE_VAR, None)  # every page, whichever page the link was taken from
        # django-stubs types request.GET as immutable; this request's copy is ours to replace.
        request.GET = query  # type: ignore[assignment]
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter in the query string.")
        lines = _csv_lines(queryset)
        # Under ASGI a synchronous iterator would be read whole into memory before sending.
        content: Iterable[str] | AsyncIterator[str] = (
            _async_chunks(lines) if isinstance(request, ASGIRequest) else lines
        )
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.csv"'
        return response


def _json(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(queryset: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)  # a separator inside a cell can never split it
    yield writer.writerow(CSV_COLUMNS)
    # One query (a server-side cursor on PostgreSQL): a consistent snapshot, read in chunks.
    for event in queryset.iterator(chunk_size=2000):
        row = [
            event.created.isoformat(),
            event.kind,
            event.outcome,
            event.user.username if event.user else "",
            f"{event.application.name} ({event.application.client_id})" if event.application else "",
            event.tool,
            event.project,
            event.gitlab_status if event.gitlab_status is not None else "",
            event.duration_ms if event.duration_ms is not None else "",
            event.ip or "",
            _json(event.detail),
        ]
        yield writer.writerow([_cell(value) for value in row])


def _cell(value: Any) -> Any:
    """OWASP CSV injection: a text cell starting with = + - @ tab or CR would be a formula in a
    spreadsheet; prefixed with ' it is text (and every cell is quoted)."""
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def _async_chunks(lines: Iterator[str], size: int = 500) -> AsyncIterator[str]:
    # thread_sensitive: every chunk is read in the request's one sync thread, where the cursor lives.
    next_chunk = sync_to_async(lambda: "".join(itertools.islice(lines, size)), thread_sensitive=True)
    while chunk := await next_chunk():
        yield chunk
