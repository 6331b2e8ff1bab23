"""The audit log in the admin: read-only even for superusers, filters, and the CSV export of exactly
the filtered view, streamed, with no secret in it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib import admin
from django.test import AsyncRequestFactory

from oauth_gateway.admin.audit import _async_chunks, _csv_lines
from oauth_gateway.models import AuditEvent
from oauth_gateway.services.audit import audit
from tests.test_admin import AUDIT, CLIENT_SECRET, GITLAB_REFRESH, GITLAB_TOKEN, MCP_TOKEN, cast, gateway, rows

__all__ = ["cast", "gateway"]  # fixtures shared with test_admin.py
pytestmark = pytest.mark.filterwarnings("ignore:No directory at")

EXPORT = f"{AUDIT}export.csv"
MARCH = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def event(kind: str, when: datetime, **fields) -> AuditEvent:
    row = audit(kind, **fields)
    AuditEvent.objects.filter(pk=row.pk).update(created=when)  # `created` is auto_now_add
    return row


@pytest.fixture
def trail(cast):
    """Tool calls, sign-ins and refusals of alice and bob over two months, through both clients."""
    alice, bob, claude, cursor = cast["alice"].pk, cast["bob"].pk, cast["claude"].pk, cast["cursor"].pk
    call = {"kind": AuditEvent.Kind.TOOL_CALL, "ip": "192.0.2.10"}
    event(**call, when=MARCH, user_id=alice, application_id=claude, tool="get_project", project="acme/app",
          gitlab_status=200, duration_ms=120)  # fmt: skip
    event(**call, when=MARCH - timedelta(hours=1), user_id=alice, application_id=claude, tool="create_issue",
          project="acme/app", outcome="error", gitlab_status=403, duration_ms=80)  # fmt: skip
    event(**call, when=MARCH - timedelta(days=1), user_id=bob, application_id=cursor, tool="get_project",
          project="bob/secret", gitlab_status=200, duration_ms=30)  # fmt: skip
    event(**call, when=MARCH - timedelta(days=40), user_id=alice, application_id=cursor, tool="list_issues",
          project="alice/notes", gitlab_status=200, duration_ms=50)  # fmt: skip
    event(AuditEvent.Kind.SIGNIN_COMPLETED, MARCH - timedelta(days=2), user_id=alice, leg="device", client_id="abc")
    event(
        AuditEvent.Kind.CONSENT_GIVEN,
        MARCH - timedelta(days=2),
        user_id=bob,
        application_id=claude,
        client_name="Claude Code",
    )
    event(
        AuditEvent.Kind.TOKEN_REFUSED,
        MARCH - timedelta(days=3),
        outcome="denied",
        ip="203.0.113.9",
        grant_type="refresh_token",
    )
    return cast


def export(client, params=None) -> list[dict[str, str]]:
    response = client.get(EXPORT, params or {})
    assert response.status_code == 200 and response.streaming
    assert response["content-type"] == "text/csv; charset=utf-8"
    assert response["content-disposition"].startswith('attachment; filename="audit-')
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def listed(client, params=None) -> list[tuple[str, str, str]]:
    return [(e.created.isoformat(), e.kind, e.tool) for e in rows(client.get(AUDIT, params or {}))]


def test_the_audit_log_lists_events_with_user_client_tool_and_project(admin_client, trail):
    response = admin_client.get(AUDIT)
    assert len(rows(response)) == 7
    page = response.content.decode().replace("<wbr>", "")  # long values may wrap where they break
    for text in ("tool.call", "create_issue", "acme/app", "bob/secret", "Claude Code", "203.0.113.9", "403"):
        assert text in page
    assert f'href="{AUDIT}?user__id__exact={trail["alice"].pk}"' in page  # each user's trail, one click
    assert "&quot;grant_type&quot;:&quot;refresh_token&quot;" in page  # the detail, as JSON


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "tool.call"}, 4),
        ({"tool": "get_project"}, 2),
        ({"project": "acme/app"}, 2),
        ({"outcome": "error"}, 1),
        ({"outcome": "denied"}, 1),
        ({"user__id__exact": "alice"}, 4),
        ({"application__id__exact": "cursor"}, 2),
        ({"created__year": "2026", "created__month": "3"}, 6),
        ({"created__year": "2026", "created__month": "2"}, 1),
        ({"q": "bob"}, 2),
        ({"q": "create_issue"}, 1),
        ({"q": "acme", "outcome": "ok"}, 1),
    ],
)
def test_the_audit_log_filters(admin_client, trail, params, expected):
    names = {"alice": trail["alice"].pk, "cursor": trail["cursor"].pk}
    params = {key: names.get(value, value) for key, value in params.items()}
    assert len(listed(admin_client, params)) == expected


def test_the_audit_admin_refuses_add_change_and_delete_even_for_a_superuser(admin_client, admin_user, trail):
    assert admin_user.is_superuser
    row = AuditEvent.objects.first()
    assert row is not None
    assert admin_client.get(AUDIT).status_code == 200
    assert admin_client.get(f"{AUDIT}{row.pk}/change/").status_code == 403
    assert admin_client.post(f"{AUDIT}{row.pk}/change/", {"kind": "edited"}).status_code == 403
    assert admin_client.get(f"{AUDIT}{row.pk}/delete/").status_code == 403
    assert admin_client.post(f"{AUDIT}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{AUDIT}add/").status_code == 403
    assert admin_client.post(f"{AUDIT}add/", {"kind": "forged"}).status_code == 403
    admin_client.post(AUDIT, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert AuditEvent.objects.count() == 7 and AuditEvent.objects.get(pk=row.pk).kind == row.kind
    page = admin_client.get(AUDIT).content.decode()
    assert f"{AUDIT}{row.pk}/change/" not in page and "delete_selected" not in page


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"kind": "tool.call", "outcome": "ok"},
        {"user__id__exact": "alice", "created__year": "2026", "created__month": "3"},
        {"q": "get_project"},
        {"project": "acme/app", "o": "-2"},  # the order of the list, too
        {"tool": "nothing-like-this"},
    ],
)
def test_the_csv_export_holds_exactly_the_rows_of_the_filtered_list(admin_client, trail, params):
    params = {key: trail["alice"].pk if value == "alice" else value for key, value in params.items()}
    exported = export(admin_client, params)
    assert [(r["time"], r["kind"], r["tool"]) for r in exported] == listed(admin_client, params)
    assert len(exported) == len(listed(admin_client, params))


def test_the_csv_export_has_every_page_and_the_documented_columns(admin_client, trail):
    for i in range(130):  # more than one page of the list (100 a page)
        event(AuditEvent.Kind.TOOL_CALL, MARCH + timedelta(minutes=i), user_id=trail["bob"].pk, project="acme/web")
    assert len(listed(admin_client, {"project": "acme/web"})) == 100
    exported = export(admin_client, {"project": "acme/web"})
    assert len(exported) == 130
    assert export(admin_client, {"project": "acme/web", "p": "2"}) == exported  # a link taken on page 2
    assert list(exported[0]) == [
        "time", "kind", "outcome", "user", "client", "tool", "project", "gitlab_status", "duration_ms", "ip", "detail"
    ]  # fmt: skip
    first = export(admin_client, {"tool": "create_issue"})[0]
    assert first == {
        "time": (MARCH - timedelta(hours=1)).isoformat(),
        "kind": "tool.call",
        "outcome": "error",
        "user": "alice",
        "client": f"Claude Code ({trail['claude'].client_id})",
        "tool": "create_issue",
        "project": "acme/app",
        "gitlab_status": "403",
        "duration_ms": "80",
        "ip": "192.0.2.10",
        "detail": "{}",
    }
    assert export(admin_client, {"kind": "token.refused"})[0]["detail"] == '{"grant_type":"refresh_token"}'


def test_the_csv_export_has_no_secret_and_no_formula(admin_client, trail):
    event(AuditEvent.Kind.TOOL_CALL, MARCH, user_id=trail["alice"].pk, tool="get_file", project="=HYPERLINK(1)")
    body = b"".join(admin_client.get(EXPORT).streaming_content).decode()
    session = trail["alice_claude"]
    for secret in (GITLAB_TOKEN, GITLAB_REFRESH, MCP_TOKEN, CLIENT_SECRET, session.access_token_enc[:24]):
        assert secret not in body
    assert "'=HYPERLINK(1)" in body  # a spreadsheet shows it as text instead of running it


def test_every_csv_cell_is_quoted_so_a_formula_after_a_separator_stays_text(admin_client, trail):
    event(AuditEvent.Kind.TOOL_CALL, MARCH, user_id=trail["alice"].pk, tool="get_file", project="x;=1+2")
    lines = b"".join(admin_client.get(EXPORT, {"tool": "get_file"}).streaming_content).decode().splitlines()
    assert lines[0].startswith('"time","kind","outcome",')  # OWASP: every cell quoted
    assert '"x;=1+2"' in lines[1]  # a spreadsheet splitting on ";" would have run =1+2


def test_the_changelist_links_to_the_export_of_its_own_filters(admin_client, trail):
    page = admin_client.get(AUDIT, {"kind": "tool.call", "q": "acme"}).content.decode()
    assert f'href="{EXPORT}?kind=tool.call&amp;q=acme"' in page


def test_the_export_refuses_unknown_and_forbidden_lookups(admin_client, trail):
    assert admin_client.get(EXPORT, {"no_such_field": "1"}).status_code == 400
    # A filter through a relation the list does not offer could probe secrets: refused.
    assert admin_client.get(EXPORT, {"user__password__startswith": "md5"}).status_code == 400
    assert admin_client.get(EXPORT, {"application__client_secret__startswith": "a"}).status_code == 400


def test_under_asgi_the_export_streams_asynchronously_in_chunks(admin_client, admin_user, trail):
    request = AsyncRequestFactory().get(EXPORT, {"kind": "tool.call"})
    request.user = admin_user
    response = admin.site._registry[AuditEvent].export_csv(request)  # type: ignore[attr-defined]

    async def read(iterator) -> list[bytes | str]:
        return [chunk async for chunk in iterator]

    assert response.is_async
    streamed = b"".join(async_to_sync(read)(response.streaming_content))
    assert streamed == b"".join(admin_client.get(EXPORT, {"kind": "tool.call"}).streaming_content)
    chunks = async_to_sync(read)(_async_chunks(_csv_lines(AuditEvent.objects.order_by("-created")), size=2))
    assert len(chunks) == 4 and "".join(chunks).count("\r\n") == 8  # header + 7 rows, 2 lines a chunk


def test_the_audit_list_runs_a_fixed_number_of_queries(admin_client, trail, django_assert_max_num_queries):
    for i in range(100):
        event(
            AuditEvent.Kind.TOOL_CALL,
            MARCH,
            user_id=trail["bob"].pk,
            application_id=trail["claude"].pk,
            tool=f"tool{i % 7}",
        )
    with django_assert_max_num_queries(13):
        assert len(rows(admin_client.get(AUDIT))) == 100
