"""The admin's connections, users and clients: lists, filters, revoke and disable actions, and secrets.

Rows are made with the ORM; GitLab is unreachable (a closed loopback port), so revoking at GitLab
fails fast, as it must not stop a connection from ending here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db.models import ProtectedError
from django.test import Client
from django.utils import timezone

from oauth_gateway.models import AccessToken, Application, AuditEvent, GitLabConnection, RefreshToken
from tests.cast import (
    CLIENT_SECRET,
    GITLAB_REFRESH,
    GITLAB_TOKEN,
    MCP_REFRESH,
    MCP_TOKEN,
    connection_for,
    make_client,
    make_user,
)

pytestmark = pytest.mark.filterwarnings("ignore:No directory at")  # STATIC_ROOT before collectstatic

CONNECTIONS = "/admin/oauth_gateway/gitlabconnection/"
USERS = "/admin/auth/user/"
CLIENTS = "/admin/oauth_gateway/application/"
AUDIT = "/admin/oauth_gateway/auditevent/"


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.OAUTH_SESSION_SECRET = "admin-tests-secret-0123456789-abcdefghijk"
    settings.GITLAB_URL = "http://127.0.0.1:9"  # nothing listens: GitLab revocation fails at once
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # client secrets, fast


@pytest.fixture
def cast(alice, bob, public_client, confidential_client):
    """alice (two connections, one through each leg), bob (one), a revoked one of bob's; two clients
    (the shared cast of tests/conftest.py: Claude Code is public, Cursor confidential)."""
    claude, cursor = public_client, confidential_client
    connections = {
        "alice_claude": connection_for(alice, claude),
        "alice_cursor": connection_for(alice, cursor, leg=GitLabConnection.Leg.DEVICE),
        "bob_claude": connection_for(bob, claude, ip="198.51.100.7"),
        "bob_old": connection_for(bob, cursor, revoked=timezone.now() - timedelta(days=1)),
    }
    GitLabConnection.objects.filter(pk=connections["alice_cursor"].pk).update(last_used=timezone.now())
    return {"alice": alice, "bob": bob, "claude": claude, "cursor": cursor, **connections}


def rows(response) -> list:
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def act(client: Client, url: str, action: str, objects) -> str:
    """Run a list action as the admin does: ask, then confirm; returns the question it asked."""
    form = {"action": action, "_selected_action": [o.pk for o in objects]}
    asked = client.post(url, form)
    assert asked.status_code == 200 and "confirm-yes" in asked.content.decode(), asked.content[:500]
    response = client.post(url, {**form, "confirmed": "yes"})
    assert response.status_code == 302, response.content[:500]
    return asked.context["question"]


def press(client: Client, url: str) -> str:
    """An object page's action button, then "Yes" on the page that asks; returns the question."""
    asked = client.post(url)
    assert asked.status_code == 200 and "confirm-yes" in asked.content.decode(), asked.content[:500]
    assert client.post(url, {"confirmed": "yes"}).status_code == 302
    return asked.context["question"]


def test_the_connections_list_shows_who_which_client_how_and_when(admin_client, cast):
    response = admin_client.get(CONNECTIONS)
    assert len(rows(response)) == 4
    page = response.content.decode()
    for text in ("alice", "bob", "Claude Code", cast["claude"].client_id[:8], "Dynamic Client Registration"):
        assert text in page
    for text in ("Client ID Metadata Document", "GitLab redirect", "GitLab device code", "198.51.100.7"):
        assert text in page
    assert page.count('class="field-state">active<') == 3 and page.count('class="field-state">revoked<') == 1
    assert f'href="{AUDIT}?user__id__exact={cast["alice"].pk}"' in page  # the user's audit trail
    assert "claude-code/1.0" not in page  # the user agent is on the connection's own page
    connection_page = admin_client.get(f"{CONNECTIONS}{cast['alice_claude'].pk}/change/").content.decode()
    assert "claude-code/1.0 (Linux x86_64) a long user agent string that goes on" in connection_page


def test_the_connections_list_filters_by_user_client_state_and_leg_and_searches(admin_client, cast):
    assert {s.pk for s in rows(admin_client.get(CONNECTIONS, {"state": "revoked"}))} == {cast["bob_old"].pk}
    assert len(rows(admin_client.get(CONNECTIONS, {"state": "active"}))) == 3
    assert len(rows(admin_client.get(CONNECTIONS, {"user__id__exact": cast["alice"].pk}))) == 2
    assert len(rows(admin_client.get(CONNECTIONS, {"application__id__exact": cast["cursor"].pk}))) == 2
    assert [s.pk for s in rows(admin_client.get(CONNECTIONS, {"leg": "device"}))] == [cast["alice_cursor"].pk]
    assert len(rows(admin_client.get(CONNECTIONS, {"q": "bob"}))) == 2
    assert len(rows(admin_client.get(CONNECTIONS, {"q": "cursor"}))) == 2


def test_revoking_selected_connections_ends_them_and_their_tokens_and_is_audited(admin_client, admin_user, cast):
    act(admin_client, CONNECTIONS, "revoke_connections", [cast["alice_claude"]])
    ended = GitLabConnection.objects.get(pk=cast["alice_claude"].pk)
    assert ended.revoked is not None
    assert not AccessToken.objects.filter(connection=ended).exists()
    assert not RefreshToken.objects.filter(connection=ended, revoked__isnull=True).exists()
    assert GitLabConnection.objects.filter(revoked__isnull=True).count() == 2  # the others live on
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CONNECTION_REVOKED)
    assert event.connection_id == ended.pk and event.user_id == cast["alice"].pk
    assert event.detail == {"by": "admin", "actor_id": admin_user.pk}


def test_revoking_the_users_of_selected_connections_ends_all_their_connections(admin_client, admin_user, cast):
    act(admin_client, CONNECTIONS, "revoke_users", [cast["alice_claude"]])
    assert not GitLabConnection.objects.filter(user=cast["alice"], revoked__isnull=True).exists()
    assert GitLabConnection.objects.get(pk=cast["bob_claude"].pk).revoked is None
    assert not AccessToken.objects.filter(user=cast["alice"]).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CONNECTION_REVOKED, user=cast["alice"]).count() == 2
    summary = AuditEvent.objects.get(kind=AuditEvent.Kind.USER_CONNECTIONS_REVOKED)
    assert summary.user_id == cast["alice"].pk
    assert summary.detail == {"by": "admin", "actor_id": admin_user.pk, "sessions": 2}


def test_disabling_the_clients_of_selected_connections_ends_every_connection_of_those_clients(admin_client, cast):
    act(admin_client, CONNECTIONS, "disable_clients", [cast["bob_claude"]])
    assert Application.objects.get(pk=cast["claude"].pk).disabled is not None
    assert Application.objects.get(pk=cast["cursor"].pk).disabled is None
    assert GitLabConnection.objects.filter(application=cast["claude"], revoked__isnull=True).count() == 0
    assert GitLabConnection.objects.get(pk=cast["alice_cursor"].pk).revoked is None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CLIENT_DISABLED)
    assert event.application_id == cast["claude"].pk and event.detail["sessions"] == 2


def test_a_connection_page_is_read_only_with_a_revoke_button_that_only_posts(admin_client, cast):
    connection = cast["alice_claude"]
    page = admin_client.get(f"{CONNECTIONS}{connection.pk}/change/").content.decode()
    assert "Revoke this connection" in page and 'name="_save"' not in page
    assert "1 access token(s), 1 live refresh token(s)" in page
    url = f"{CONNECTIONS}{connection.pk}/do/revoke_connections/"
    assert admin_client.get(url).status_code == 405
    assert press(admin_client, url) == "Revoke 1 connection of 1 user?"
    assert GitLabConnection.objects.get(pk=connection.pk).revoked is not None
    page = admin_client.get(f"{CONNECTIONS}{connection.pk}/change/").content.decode()
    assert "Revoke this connection" not in page and "Revoke every connection of this user" in page  # ended already
    trail = rows(admin_client.get(AUDIT, {"connection__id__exact": connection.pk}))  # this connection's own trail
    assert [e.kind for e in trail] == ["connection.revoked"]
    assert f"{AUDIT}?connection__id__exact={connection.pk}" in page
    assert admin_client.post(f"{CONNECTIONS}{connection.pk}/do/delete_selected/").status_code == 404
    assert admin_client.get(f"{CONNECTIONS}add/").status_code == 403
    assert "delete_selected" not in admin_client.get(CONNECTIONS).content.decode()  # revoke, don't delete


def test_the_users_list_shows_gitlab_identity_active_connections_and_last_activity(admin_client, cast):
    response = admin_client.get(USERS)
    users = {user.username: user for user in rows(response)}
    assert users["alice"].active_connections == 2 and users["bob"].active_connections == 1  # bob's old one is revoked
    assert users["alice"].last_activity is not None and users["bob"].last_activity is None
    page = response.content.decode()
    assert "Alice Example" in page
    user_page = admin_client.get(f"{USERS}{cast['alice'].pk}/change/").content.decode()
    assert 'href="https://gitlab.example.com/uploads/alice.png"' in user_page
    assert f'href="{CONNECTIONS}?user__id__exact={cast["bob"].pk}"' in page
    assert len(rows(admin_client.get(USERS, {"q": "alice"}))) == 1


def test_the_user_page_revokes_everything_of_that_user(admin_client, cast):
    alice = cast["alice"]
    page = admin_client.get(f"{USERS}{alice.pk}/change/").content.decode()
    assert "Revoke everything of this user" in page and "GitLab id" in page
    assert f'href="{AUDIT}?user__id__exact={alice.pk}"' in page
    assert "Change password" in page or "password/" in page  # Django's own user admin is still there
    assert press(admin_client, f"{USERS}{alice.pk}/do/revoke_everything/") == "Revoke all 2 connections of 1 user?"
    assert not GitLabConnection.objects.filter(user=alice, revoked__isnull=True).exists()
    assert GitLabConnection.objects.filter(user=cast["bob"], revoked__isnull=True).count() == 1
    act(admin_client, USERS, "revoke_everything", [cast["bob"]])
    assert not GitLabConnection.objects.filter(revoked__isnull=True).exists()


def test_the_clients_list_counts_connections_and_disables_and_enables(admin_client, cast):
    clients = {app.name: app for app in rows(admin_client.get(CLIENTS))}
    assert clients["Claude Code"].active_connections == 2 and clients["Cursor"].active_connections == 1
    assert clients["Cursor"].last_use is not None and clients["Claude Code"].last_use is None
    page = admin_client.get(f"{CLIENTS}{cast['cursor'].pk}/change/").content.decode()
    assert "•••" in page and "Disable this client" in page and "Enable this client" not in page
    act(admin_client, CLIENTS, "disable_clients", [cast["cursor"]])
    assert Application.objects.get(pk=cast["cursor"].pk).disabled is not None
    assert not GitLabConnection.objects.filter(application=cast["cursor"], revoked__isnull=True).exists()
    assert [app.name for app in rows(admin_client.get(CLIENTS, {"state": "disabled"}))] == ["Cursor"]
    assert "Enable this client" in admin_client.get(f"{CLIENTS}{cast['cursor'].pk}/change/").content.decode()
    act(admin_client, CLIENTS, "enable_clients", [cast["cursor"]])
    assert Application.objects.get(pk=cast["cursor"].pk).disabled is None
    assert [
        e.kind for e in AuditEvent.objects.filter(application=cast["cursor"], kind__startswith="client.").order_by("pk")
    ] == [
        AuditEvent.Kind.CLIENT_DISABLED,
        AuditEvent.Kind.CLIENT_ENABLED,
    ]


def test_no_admin_page_shows_a_token_a_hash_or_a_client_secret(admin_client, cast):
    admin_client.get(CONNECTIONS, {"q": "x"})  # an audit row or two would not hurt either
    connection = cast["alice_claude"]
    access = AccessToken.objects.get(connection=connection)
    cursor = Application.objects.get(pk=cast["cursor"].pk)
    secrets = [GITLAB_TOKEN, GITLAB_REFRESH, MCP_TOKEN, MCP_REFRESH, CLIENT_SECRET, cursor.client_secret]
    secrets += [connection.access_token_enc, connection.refresh_token_enc, access.token_checksum]
    secrets += [RefreshToken.objects.get(connection=connection).token_checksum]
    claude = Application.objects.get(pk=cast["claude"].pk)
    secrets += [claude.client_secret]  # hashed, but still not for display
    pages = ["/admin/", CONNECTIONS, USERS, CLIENTS, AUDIT, f"{AUDIT}export.csv", f"{CLIENTS}add/"]
    pages += [f"{CONNECTIONS}{connection.pk}/change/", f"{USERS}{cast['alice'].pk}/change/"]
    pages += [f"{CLIENTS}{cursor.pk}/change/", f"{CLIENTS}{claude.pk}/change/"]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for secret in secrets:
            assert secret[:24].encode() not in body, (url, secret[:8])


def test_toolkit_credential_admins_are_not_there(admin_client, db):
    for model in ("accesstoken", "refreshtoken", "grant", "idtoken", "devicegrant"):
        assert admin_client.get(f"/admin/oauth_gateway/{model}/").status_code == 404


def test_only_staff_reach_the_admin(client, cast):
    client.force_login(cast["alice"])  # signed in (e.g. through GitLab), but not staff
    connection = cast["alice_claude"]
    for url in (CONNECTIONS, USERS, CLIENTS, AUDIT, f"{AUDIT}export.csv", f"{CONNECTIONS}{connection.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302 and response["location"].startswith("/admin/login/"), url
    response = client.post(f"{CONNECTIONS}{connection.pk}/do/revoke_connections/")
    assert response.status_code == 302 and response["location"].startswith("/admin/login/")
    response = client.post(CONNECTIONS, {"action": "revoke_connections", "_selected_action": [connection.pk]})
    assert response.status_code == 302 and response["location"].startswith("/admin/login/")
    assert GitLabConnection.objects.get(pk=connection.pk).revoked is None


def test_staff_who_may_only_view_connections_cannot_revoke_them(client, cast):
    viewer = User.objects.create(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_gitlabconnection"))
    client.force_login(viewer)
    connection = cast["alice_claude"]
    page = client.get(CONNECTIONS).content.decode()
    assert "alice" in page and "revoke_connections" not in page
    assert client.post(f"{CONNECTIONS}{connection.pk}/do/revoke_connections/").status_code == 403
    assert GitLabConnection.objects.get(pk=connection.pk).revoked is None


def test_object_actions_need_the_csrf_token(admin_user, cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    connection = cast["alice_claude"]
    assert browser.post(f"{CONNECTIONS}{connection.pk}/do/revoke_connections/").status_code == 403
    assert GitLabConnection.objects.get(pk=connection.pk).revoked is None


@pytest.mark.parametrize("url", [CONNECTIONS, USERS, CLIENTS])
def test_lists_run_a_fixed_number_of_queries_whatever_the_rows(admin_client, db, url, django_assert_max_num_queries):
    alice = make_user("alice", 1)
    for i in range(50):  # 50 connections of 26 users through 50 clients
        connection_for(make_user(f"user{i}", 100 + i) if i % 2 else alice, make_client(f"client {i}"))
    with django_assert_max_num_queries(12):
        assert len(rows(admin_client.get(url))) >= 26


def test_clients_and_connections_are_never_deleted_and_a_user_with_connections_stays(admin_client, cast):
    """Their audit rows point at them (on_delete=PROTECT): clients are disabled, connections revoked."""
    assert admin_client.get(f"{CLIENTS}{cast['claude'].pk}/delete/").status_code == 403
    assert admin_client.get(f"{CONNECTIONS}{cast['bob_old'].pk}/delete/").status_code == 403
    assert "delete_selected" not in admin_client.get(CLIENTS).content.decode()
    refused = admin_client.post(f"{USERS}{cast['alice'].pk}/delete/", {"post": "yes"})
    assert refused.status_code == 200 and "alice: has connections" in refused.content.decode()
    assert GitLabConnection.objects.count() == 4 and Application.objects.count() == 2
    loner = make_user("loner", 99)  # no connection: nothing of the trail goes with them
    assert admin_client.post(f"{USERS}{loner.pk}/delete/", {"post": "yes"}).status_code == 302
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.TOOL_CALL, application=cast["claude"], connection=cast["alice_claude"]
    )
    with pytest.raises(ProtectedError):
        cast["claude"].delete()
