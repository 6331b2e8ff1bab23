"""The admin asks before it acts, says it with counts and names, shows times with their zone, and
points a signed-in non-admin to /connections/ (in-process; the browser side is
tests/e2e/test_browser_admin_pages.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from oauth_gateway.admin import confirm
from oauth_gateway.models import Application, AuditEvent, GitLabConnection
from tests.test_admin import AUDIT, CLIENTS, CONNECTIONS, USERS, cast, gateway

__all__ = ["cast", "gateway"]  # fixtures shared with test_admin.py
pytestmark = pytest.mark.filterwarnings("ignore:No directory at")


def ask(client: Client, url: str, action: str, objects) -> str:
    response = client.post(url, {"action": action, "_selected_action": [o.pk for o in objects]})
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


@pytest.mark.parametrize(
    ("url", "action", "picked", "question", "named"),
    [
        (CONNECTIONS, "revoke_connections", ["alice_claude", "alice_cursor", "bob_claude"],
         "Revoke 3 connections of 2 users?",
         ["alice via Claude Code, since", "alice via Cursor, since", "bob via Claude Code, since"]),
        (CONNECTIONS, "revoke_connections", ["alice_claude", "bob_old"], "Revoke 1 connection of 1 user?",
         ["alice via Claude Code"]),  # bob's ended one is not counted
        (CONNECTIONS, "revoke_users", ["alice_claude"], "Revoke all 2 connections of 1 user?",
         ["alice via Claude Code", "alice via Cursor"]),
        (CONNECTIONS, "disable_clients", ["bob_claude"], "Disable 1 client and end their 2 active connections?",
         ["Claude Code"]),
        (USERS, "revoke_everything", ["alice", "bob"], "Revoke all 3 connections of 2 users?",
         ["alice via Claude Code", "bob via Claude Code"]),
        (CLIENTS, "disable_clients", ["claude", "cursor"], "Disable 2 clients and end their 3 active connections?",
         ["Claude Code", "Cursor"]),
        (CLIENTS, "verify_clients", ["claude"], "Mark 1 client verified?", ["Claude Code"]),
    ],
)  # fmt: skip
def test_each_action_asks_with_counts_and_names_and_changes_nothing_until_confirmed(
    admin_client, cast, url, action, picked, question, named
):
    before = (
        sorted(GitLabConnection.objects.values_list("pk", "revoked")),
        sorted(Application.objects.values_list("pk", "disabled", "verified")),
    )
    page = ask(admin_client, url, action, [cast[name] for name in picked])
    assert f"<h1>{question}</h1>" in page
    for name in named:
        assert name in page
    assert "connection #" not in page and "user #" not in page  # names, not ids
    assert 'name="confirmed" value="yes"' in page and 'id="confirm-cancel"' in page
    after = (
        sorted(GitLabConnection.objects.values_list("pk", "revoked")),
        sorted(Application.objects.values_list("pk", "disabled", "verified")),
    )
    assert after == before and not AuditEvent.objects.exists()  # asking changed and audited nothing


def test_the_confirmed_post_acts_on_exactly_the_ids_it_showed(admin_client, admin_user, cast):
    page = ask(admin_client, CONNECTIONS, "revoke_connections", [cast["alice_claude"], cast["bob_old"]])
    shown = re.findall(r'name="_selected_action" value="(\d+)"', page)
    assert shown == [str(cast["alice_claude"].pk)]  # the ended one is left out of what is posted back
    form = {"action": "revoke_connections", "_selected_action": shown, "confirmed": "yes"}
    assert admin_client.post(CONNECTIONS, form).status_code == 302
    assert GitLabConnection.objects.filter(revoked__isnull=True).count() == 2
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CONNECTION_REVOKED)
    assert event.connection_id == cast["alice_claude"].pk and event.detail == {"by": "admin", "actor_id": admin_user.pk}


def test_cancel_goes_back_to_the_same_filtered_list_or_object_page(admin_client, cast):
    page = ask(admin_client, f"{CONNECTIONS}?state=active", "revoke_connections", [cast["alice_claude"]])
    assert f'href="{CONNECTIONS}?state=active" id="confirm-cancel"' in page
    page = admin_client.post(f"{CLIENTS}{cast['claude'].pk}/do/disable_clients/").content.decode()
    assert f'href="{CLIENTS}{cast["claude"].pk}/change/" id="confirm-cancel"' in page
    assert Application.objects.get(pk=cast["claude"].pk).disabled is None


def test_nothing_to_do_says_so_without_asking(admin_client, cast):
    response = admin_client.post(
        CONNECTIONS, {"action": "revoke_connections", "_selected_action": [cast["bob_old"].pk]}, follow=True
    )
    assert "Nothing to revoke: the selected connections have ended already." in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_connection_and_audit_titles_use_names_and_dates(cast):
    connection = GitLabConnection.objects.get(pk=cast["alice_claude"].pk)
    GitLabConnection.objects.filter(pk=connection.pk).update(created=datetime(2026, 12, 3, 9, 30, tzinfo=UTC))
    connection.refresh_from_db()
    assert str(connection) == "alice via Claude Code, since 3 Dec 2026"
    assert str(GitLabConnection.objects.get(pk=cast["bob_old"].pk)).endswith("(revoked)")
    event = AuditEvent.objects.create(kind=AuditEvent.Kind.CONNECTION_REVOKED, user=cast["alice"])
    AuditEvent.objects.filter(pk=event.pk).update(created=datetime(2026, 12, 3, 14, 5, 9, tzinfo=UTC))
    event.refresh_from_db()
    assert str(event) == "connection.revoked (ok) at 3 Dec 2026, 14:05:09 UTC"


def test_every_time_the_admin_shows_carries_its_zone(admin_client, admin_user, cast):
    connection = cast["alice_claude"]
    AuditEvent.objects.create(kind=AuditEvent.Kind.TOOL_CALL, user=cast["alice"], tool="get_project")
    admin_user.last_login = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    admin_user.save()
    zoned = re.compile(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC")
    for url in (
        CONNECTIONS,
        USERS,
        CLIENTS,
        AUDIT,
        f"{CONNECTIONS}{connection.pk}/change/",
        f"{USERS}{admin_user.pk}/change/",
    ):
        page = admin_client.get(url).content.decode()
        assert zoned.search(page), url
    assert "3 Dec 2026, 08:00 UTC" in admin_client.get(f"{USERS}{admin_user.pk}/change/").content.decode()
    response = admin_client.get(f"{AUDIT}export.csv")
    assert re.search(r'filename="audit-\d{8}-\d{6}Z\.csv"', response["content-disposition"])  # UTC, said
    exported = b"".join(response.streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(exported)))
    assert datetime.fromisoformat(row["time"]).utcoffset() is not None and row["time"].endswith("+00:00")


@pytest.mark.urls("tests.oauth_urls")
def test_a_signed_in_non_admin_at_admin_is_pointed_to_connections(client, cast):
    client.force_login(cast["alice"])
    response = client.get("/admin/", follow=True)
    page = response.content.decode()
    assert response.status_code == 403 and "This page is for administrators" in page
    assert 'href="/connections/"' in page and "alice" in page
    assert "not authorized to access this page" not in page  # Django's stock refusal
    assert 'action="/connections/signout"' in page  # "Sign in as someone else"
    assert "check again" not in page  # nobody is named an admin by GitLab settings


@pytest.mark.urls("tests.oauth_urls")
def test_someone_named_an_admin_is_offered_the_sign_in_that_checks(client, cast, settings):
    # Signed in from an MCP client, which does not settle admin rights: the admin's GitLab sign-in does.
    settings.OAUTH_ENABLED, settings.ADMIN_GITLAB_USERS = True, ["alice"]
    client.force_login(cast["alice"])
    page = client.get("/admin/", follow=True).content.decode()
    link = re.search(r'href="([^"]+)">Sign in with GitLab to check again<', page)
    assert link is not None and link[1].startswith("/connections/signin?")
    assert "next=%2Fadmin%2F" in link[1]


@pytest.mark.urls("tests.oauth_urls")
def test_staff_and_anonymous_visitors_still_get_the_admin_and_its_login(client, admin_user, db):
    assert "Sign in with GitLab" in client.get("/admin/login/").content.decode()
    client.force_login(admin_user)
    assert client.get("/admin/login/")["location"] == "/admin/"


@pytest.mark.urls("tests.oauth_urls")
def test_sign_in_as_someone_else_signs_out_and_opens_the_admin_login(client, cast):
    client.force_login(cast["alice"])
    response = client.post("/connections/signout", {"next": "/admin/"}, follow=True)  # the pointer's button
    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert 'id="login-form"' in page and "Sign in with GitLab" in page and "This page is for administrators" not in page
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.BROWSER_SIGNOUT, user=cast["alice"]).count() == 1


@pytest.mark.urls("tests.oauth_urls")
def test_sign_out_at_connections_ends_the_browser_session_and_stays_on_this_server(client, cast):
    client.force_login(cast["alice"])
    response = client.post("/connections/signout", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["location"] == "/connections/"  # never elsewhere
    assert "_auth_user_id" not in client.session
    assert GitLabConnection.objects.filter(user=cast["alice"], revoked__isnull=True).count() == 2  # clients stay


def test_select_all_across_pages_asks_for_the_concrete_rows_it_will_act_on(admin_client, cast):
    form = {
        "action": "revoke_connections",
        "select_across": "1",
        "index": "0",
        "_selected_action": [cast["bob_claude"].pk],
    }
    page = admin_client.post(CONNECTIONS, form).content.decode()
    assert "<h1>Revoke 3 connections of 2 users?</h1>" in page  # every active one, not only the ticked row
    posted = re.findall(r'name="_selected_action" value="(\d+)"', page)
    assert sorted(posted) == sorted(str(cast[name].pk) for name in ("alice_claude", "alice_cursor", "bob_claude"))
    assert 'name="select_across"' not in page  # a connection made meanwhile is not swept in by the answer


def test_a_selection_too_big_to_post_back_is_confirmed_as_the_same_filtered_list(admin_client, cast, monkeypatch):
    monkeypatch.setattr(confirm, "MAX_POSTED_IDS", 2)
    monkeypatch.setattr(confirm, "SHOWN", 1)
    form = {
        "action": "revoke_connections",
        "select_across": "1",
        "index": "0",
        "_selected_action": [cast["bob_claude"].pk],
    }
    page = admin_client.post(f"{CONNECTIONS}?state=active", form).content.decode()
    assert "<h2>3 affected</h2>" in page and "… and 2 more." in page
    assert 'name="select_across" value="1"' in page and page.count('name="_selected_action"') == 1
    posted = re.findall(r'name="_selected_action" value="(\d+)"', page)
    confirmed = {"action": "revoke_connections", "select_across": "1", "_selected_action": posted, "confirmed": "yes"}
    assert admin_client.post(f"{CONNECTIONS}?state=active", confirmed).status_code == 302
    assert not GitLabConnection.objects.filter(revoked__isnull=True).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CONNECTION_REVOKED).count() == 3
