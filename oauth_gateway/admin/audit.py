"""The audit log: append-only (nobody adds, changes or deletes a row here, superusers included), with
filters, and an export of exactly the filtered list as CSV, streamed. Times are shown with their zone
(oauth_gateway/formats) and exported as ISO 8601 with their UTC offset."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from oauth_gateway.admin.common import changelist
from oauth_gateway.models import AuditEvent

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


class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: nobody adds, changes or deletes audit rows here, superusers included."""

    # Outcome, GitLab's status and the duration share a column, so the list fits 1280 px.
    list_display = ("created", "event", "user_link", "client", "project_path", "result", "address", "detail_json")
    list_display_links = None  # there is no change page
    list_filter = (
        "user",
        ("application", admin.RelatedOnlyFieldListFilter),
        # The kinds found in the rows, as stored (not every AuditEvent.Kind, by its label).
        ("kind", admin.AllValuesFieldListFilter),
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
        url = changelist(AuditEvent, user__id__exact=event.user_id)
        return format_html('<a href="{}" title="this user\'s trail">{}</a>', url, event.user.username)

    @admin.display(description="client", ordering="application__name")
    def client(self, event: AuditEvent) -> str:
        return event.application.name if event.application else "—"

    @admin.display(description="event", ordering="kind")
    def event(self, event: AuditEvent) -> str:
        if not event.tool:
            return breakable(event.kind)
        return format_html('{}<br><span class="tool">{}</span>', breakable(event.kind), breakable(event.tool))

    @admin.display(description="project", ordering="project")
    def project_path(self, event: AuditEvent) -> str:
        return breakable(event.project) if event.project else "—"

    @admin.display(description="IP address", ordering="ip")
    def address(self, event: AuditEvent) -> str:
        return breakable(event.ip) if event.ip else "—"

    @admin.display(description="result", ordering="outcome")
    def result(self, event: AuditEvent) -> str:
        parts = [event.outcome]
        if event.gitlab_status is not None:
            parts.append(f"GitLab {event.gitlab_status}")
        if event.duration_ms is not None:
            parts.append(f"{event.duration_ms} ms")
        return " · ".join(parts)

    @admin.display(description="detail")
    def detail_json(self, event: AuditEvent) -> str:
        return format_html("<code>{}</code>", breakable(_json(event.detail))) if event.detail else ""

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
        # UTC, said in the name (Z) as in every row's time (ISO 8601 with its offset).
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}Z.csv"'
        return response


def breakable(text: str) -> str:
    """`text`, escaped, allowed to wrap after . _ / : , (identifiers, paths, addresses and JSON have
    no spaces, and would otherwise push the list wider than the window)."""
    return format_html_join("", "{}<wbr>", ((part,) for part in re.split(r"(?<=[._/:,])", text)))


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
