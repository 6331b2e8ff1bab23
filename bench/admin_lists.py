"""How fast the admin's list pages are on a large database (a benchmark, not a test).

Seeds a scratch database with 200 users, 300 clients, 5,000 sessions and 100,000 audit rows, then
times each admin changelist (and a few filtered views) through Django's test client, with the
number of SQL queries per page. PostgreSQL by default (a database created and dropped here);
`--sqlite` uses a temporary SQLite file.

    .venv/bin/python -m bench.admin_lists [--sqlite]
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
import uuid
from datetime import timedelta

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGES = [
    ("sessions", "/admin/oauth_gateway/gitlabconnection/"),
    ("sessions, active", "/admin/oauth_gateway/gitlabconnection/?state=active"),
    ("users", "/admin/auth/user/"),
    ("clients", "/admin/oauth_gateway/application/"),
    ("audit log", "/admin/oauth_gateway/auditevent/"),
    ("audit log, one user", "/admin/oauth_gateway/auditevent/?user__id__exact=7"),
    ("audit log, one tool", "/admin/oauth_gateway/auditevent/?tool=get_file"),
]


def seed() -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from oauth_gateway.models import Application, AuditEvent, GitLabConnection, GitLabIdentity

    now = timezone.now()
    users = User.objects.bulk_create(User(username=f"user{i}") for i in range(200))
    GitLabIdentity.objects.bulk_create(
        GitLabIdentity(user=u, gitlab_id=1000 + i, username=u.username) for i, u in enumerate(users)
    )
    apps = Application.objects.bulk_create(
        Application(
            name=f"client {i}",
            client_id=uuid.uuid4().hex,
            client_type="public",
            authorization_grant_type="authorization-code",
            redirect_uris="http://127.0.0.1/cb",
        )
        for i in range(300)
    )
    sessions = []
    for i in range(5000):
        connection = GitLabConnection(
            user=users[i % 200],
            application=apps[i % 300],
            leg="authorization_code",
            last_used=now - timedelta(minutes=i),
            revoked=now if i % 5 == 0 else None,
        )
        connection.set_gitlab_tokens(secrets.token_hex(16), secrets.token_hex(16))
        sessions.append(connection)
    sessions = GitLabConnection.objects.bulk_create(sessions, batch_size=1000)
    tools = ("get_file", "list_issues", "get_merge_request", "get_job_log")
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                kind=AuditEvent.Kind.TOOL_CALL,
                user=users[i % 200],
                application=apps[i % 300],
                connection=sessions[i % 5000],
                tool=tools[i % 4],
                project=f"group/project-{i % 50}",
                duration_ms=i % 300,
            )
            for i in range(100_000)
        ),
        batch_size=5000,
    )


def measure() -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    admin = User.objects.create_superuser("bench-admin", "admin@example.com", secrets.token_hex(8))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    print(f"{'page':<22} {'status':>6} {'ms':>8} {'queries':>8}")
    for name, url in PAGES:
        client.get(url)  # warm caches
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        print(f"{name:<22} {response.status_code:>6} {elapsed:>8.1f} {len(queries):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    name = f"gitlab_mcp_bench_{uuid.uuid4().hex[:8]}"
    tmp = tempfile.TemporaryDirectory()
    if args.sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ.setdefault("GITLAB_TOKEN", "bench")
    os.environ["OAUTH_SESSION_SECRET"] = secrets.token_urlsafe(40)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed()
        seconds = time.perf_counter() - started
        print(f"seeded 200 users, 300 clients, 5,000 sessions, 100,000 audit rows in {seconds:.0f} s")
        measure()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.sqlite:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        tmp.cleanup()


if __name__ == "__main__":
    main()
