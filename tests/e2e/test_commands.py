"""The operator's commands: `prune` (what can no longer be used) and `revoke` (end connections now).

`prune` and revoke's refusals run with call_command on seeded rows; `revoke` also runs as a
subprocess against a live server's database, and the MCP SDK client's token then gets 401.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from oauth_gateway.models import (
    AccessToken,
    Application,
    AuditEvent,
    GitLabConnection,
    GitLabIdentity,
    Grant,
    PendingSignIn,
    RefreshToken,
)
from tests.harness import ROOT, Sim, server_rows
from tests.oauth_client import OAUTH_ENV, Browser, MemoryStorage, mcp_status, oauth_mcp, structured

DAY = timedelta(days=1)


def run(*args: str, **options: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def ago(delta: timedelta) -> Any:
    return timezone.now() - delta


@pytest.fixture
def cast(db: Any) -> dict[str, Any]:
    """alice (GitLab #1) and bob (#2), two clients, and live connections: alice on both, bob on one."""
    people = {}
    for gitlab_id, name in ((1, "alice"), (2, "bob")):
        people[name] = User.objects.create(username=name)
        GitLabIdentity.objects.create(user=people[name], gitlab_id=gitlab_id, username=name)
    apps = [
        Application.objects.create(
            name=name,
            client_id=f"client-{name.lower()}",
            client_type="public",
            authorization_grant_type="authorization-code",
            redirect_uris="http://127.0.0.1/callback",
        )
        for name in ("Claude", "Cursor")
    ]
    connections = [
        connection(people["alice"], apps[0]),
        connection(people["alice"], apps[1]),
        connection(people["bob"], apps[0]),
    ]
    return {"people": people, "apps": apps, "connections": connections}


def connection(user: User, app: Application, revoked: Any = None) -> GitLabConnection:
    connection = GitLabConnection(user=user, application=app, leg="authorization_code", revoked=revoked)
    connection.set_gitlab_tokens(f"gloas-{user.username}", f"refresh-{user.username}")
    connection.save()
    return connection


def token(connection: GitLabConnection, name: str, expires: Any) -> AccessToken:
    return AccessToken.objects.create(
        user=connection.user, application=connection.application, connection=connection, token=name, expires=expires
    )


def refresh_token(access: AccessToken | None, name: str, revoked: Any = None, app: Any = None) -> RefreshToken:
    owner = access.user if access else User.objects.get(username="alice")
    return RefreshToken.objects.create(
        user=owner, application=app or access.application, access_token=access, token=name, revoked=revoked
    )


def pending(name: str, *, expires: Any, status: str = "pending", created: Any = None) -> None:
    row = PendingSignIn.objects.create(
        leg="authorization_code", state=name, browser_key="k", authorize_query="", client_id="", expires=expires
    )
    PendingSignIn.objects.filter(pk=row.pk).update(status=status, created=created or timezone.now())


def audited(kind: str, age: timedelta) -> None:
    row = AuditEvent.objects.create(kind=kind)
    AuditEvent.objects.filter(pk=row.pk).update(created=ago(age))


@pytest.fixture
def junk(cast: dict[str, Any]) -> dict[str, Any]:
    """One row of each kind that must go, beside one that must stay."""
    alice, app = cast["people"]["alice"], cast["apps"][0]
    live = cast["connections"][0]
    for code, expires in (("expired-code", ago(timedelta(minutes=1))), ("live-code", ago(-timedelta(minutes=5)))):
        Grant.objects.create(user=alice, code=code, application=app, expires=expires, redirect_uri="http://x/cb")
    pending("expired", expires=ago(timedelta(minutes=1)))
    pending("failed-long-ago", expires=ago(-DAY), status="failed", created=ago(timedelta(hours=2)))
    pending("failed-just-now", expires=ago(-DAY), status="failed")  # its page may still poll
    pending("in-flight", expires=ago(-timedelta(minutes=5)))
    token(live, "expired-alone", ago(timedelta(minutes=1)))
    idle = token(live, "expired-but-refreshable", ago(timedelta(hours=2)))
    refresh_token(idle, "refresh-of-idle")  # within OAUTH_REFRESH_TOKEN_TTL: the connection lives on
    dormant = token(live, "expired-long-ago", ago(8 * DAY))
    refresh_token(dormant, "refresh-of-dormant")  # idle for longer than the 7-day refresh lifetime
    refresh_token(None, "rotated-long-ago", revoked=ago(8 * DAY), app=app)
    refresh_token(None, "rotated-recently", revoked=ago(DAY), app=app)  # kept for reuse detection
    token(live, "live", ago(-timedelta(hours=1)))
    old = connection(alice, app, revoked=ago(100 * DAY))
    recent = connection(alice, app, revoked=ago(40 * DAY))
    for kind, age in (("old", 100 * DAY), ("month-old", 40 * DAY), ("fresh", DAY)):
        audited(kind, age)
    return {"old_connection": old, "recent_connection": recent}


def test_prune_deletes_what_cannot_be_used_and_says_so(junk: dict[str, Any]):
    out = run("prune")
    assert out.splitlines() == [
        "Deleted 1 audit events",
        "Deleted 1 ended connections",
        "Deleted 1 authorization codes",
        "Deleted 2 pending sign-ins",
        "Deleted 2 refresh tokens",
        "Deleted 2 access tokens",
    ]
    assert set(Grant.objects.values_list("code", flat=True)) == {"live-code"}
    assert set(PendingSignIn.objects.values_list("state", flat=True)) == {"failed-just-now", "in-flight"}
    assert set(RefreshToken.objects.values_list("token", flat=True)) == {"refresh-of-idle", "rotated-recently"}
    assert set(AccessToken.objects.values_list("token", flat=True)) == {"expired-but-refreshable", "live"}
    assert not GitLabConnection.objects.filter(pk=junk["old_connection"].pk).exists()
    assert GitLabConnection.objects.filter(pk=junk["recent_connection"].pk).exists()
    kinds = set(AuditEvent.objects.values_list("kind", flat=True))
    assert kinds == {"month-old", "fresh", AuditEvent.Kind.MAINTENANCE_PRUNED}
    assert run("prune").count("Deleted 0 ") == 6  # nothing left to do


def test_prune_with_a_shorter_horizon_and_a_dry_run(junk: dict[str, Any]):
    dry = run("prune", "--audit-older-than", "30d", "--dry-run")
    assert "Would delete 2 audit events" in dry and "Would delete 2 ended connections" in dry
    assert "Would delete 2 access tokens" in dry  # the dry run counts what the real run deletes
    assert AuditEvent.objects.count() == 3 and GitLabConnection.objects.filter(revoked__isnull=False).count() == 2
    out = run("prune", "--audit-older-than", "720h")
    assert "Deleted 2 audit events" in out and "Deleted 2 ended connections" in out and "Deleted 2 access tokens" in out
    assert set(AuditEvent.objects.values_list("kind", flat=True)) == {"fresh", AuditEvent.Kind.MAINTENANCE_PRUNED}


def test_prune_keeps_an_ended_connection_that_a_remaining_audit_row_points_at(junk: dict[str, Any]):
    cited = junk["old_connection"]
    AuditEvent.objects.create(kind=AuditEvent.Kind.CONNECTION_REVOKED, connection=cited, application=cited.application)
    forgotten = connection(cited.user, cited.application, revoked=ago(100 * DAY))
    AuditEvent.objects.create(kind=AuditEvent.Kind.CONNECTION_REVOKED, connection=forgotten)
    AuditEvent.objects.filter(connection=forgotten).update(created=ago(100 * DAY))  # pruned with it
    assert "Would delete 1 ended connections" in run("prune", "--dry-run")
    assert "Deleted 1 ended connections" in run("prune")
    assert GitLabConnection.objects.filter(pk=cited.pk).exists()
    assert not GitLabConnection.objects.filter(pk=forgotten.pk).exists()
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.CONNECTION_REVOKED).connection_id == cited.pk


@pytest.mark.parametrize("age", ["90", "3w", "-5d", "d"])
def test_prune_refuses_an_age_it_cannot_read(db: Any, age: str):
    with pytest.raises(CommandError, match="number of days or hours such as 90d or 12h"):
        run("prune", f"--audit-older-than={age}")


@pytest.fixture
def gitlab(settings: Any, sim: Sim) -> Sim:
    """GitLab tokens are revoked at the simulated GitLab."""
    settings.GITLAB_URL = sim.url
    return sim


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "Choose exactly one of --user"),
        ({"user": "alice", "all": True}, "Choose exactly one of --user"),
        ({"user": "zed"}, "No GitLab user 'zed' has signed in to this server."),
        ({"user": "99"}, "No GitLab user '99' has signed in to this server."),
        ({"client": "nope"}, "No client has client_id 'nope'."),
        ({"all": True}, "Nothing revoked (confirm with --yes)."),
    ],
)
def test_revoke_refuses_bad_input_and_ends_nothing(cast: dict[str, Any], options: dict[str, Any], message: str):
    with pytest.raises(CommandError) as raised:
        run("revoke", **options)
    assert str(raised.value).startswith(message)
    assert GitLabConnection.objects.filter(revoked__isnull=True).count() == 3


def test_revoke_a_client_ends_only_its_connections(cast: dict[str, Any], gitlab: Sim):
    out = run("revoke", client="client-claude")
    assert out == "Ended 2 connections of client Claude.\n"
    live = GitLabConnection.objects.filter(revoked__isnull=True)
    assert list(live) == [cast["connections"][1]]  # alice's Cursor connection
    assert len([r for r in gitlab.requests() if r["path"] == "/oauth/revoke"]) == 4  # 2 tokens × 2 connections
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.CONNECTION_REVOKED)
    assert [e.detail["by"] for e in events] == ["command", "command"]


def test_revoke_a_user_by_gitlab_id_and_then_everyone(cast: dict[str, Any], gitlab: Sim):
    assert run("revoke", user="2") == "Ended 1 connection of bob (GitLab #2).\n"
    assert run("revoke", user="bob") == "Ended 0 connections of bob (GitLab #2).\n"
    assert run("revoke", "--all", "--yes") == "Ended 2 connections.\n"
    assert not GitLabConnection.objects.filter(revoked__isnull=True).exists()


async def test_revoke_command_ends_a_live_mcp_connection_on_the_running_server(start_server: Any, sim: Sim):
    server = start_server(**OAUTH_ENV)
    tokens = {}
    for name in ("alice", "bob"):
        storage = MemoryStorage()
        async with oauth_mcp(server.url, Browser(name), storage=storage) as client:
            structured(await client.call_tool("get_current_user", {}))
        assert storage.tokens is not None
        tokens[name] = storage.tokens.access_token
    argv = [sys.executable, "manage.py", "revoke", "--user", "alice"]
    done = subprocess.run(argv, cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("Ended ") and done.stdout.endswith(" of alice (GitLab #1).\n")
    assert mcp_status(server, tokens["alice"]) == 401
    assert mcp_status(server, tokens["bob"]) == 200
    sql = "SELECT COUNT(*) FROM oauth_gateway_gitlabconnection c JOIN auth_user u ON u.id = c.user_id "
    assert server_rows(server.env["DATABASE_URL"], sql + "WHERE u.username = 'alice' AND c.revoked IS NULL") == [(0,)]
