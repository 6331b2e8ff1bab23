"""`python manage.py revoke --user <GitLab username or id> | --client <client_id> | --all [--yes]`.

Ends connections for scripts and emergencies through the same revoke service as the admin, the
self-service page and /revoke: MCP tokens stop working at the next request on every process and the
GitLab tokens are revoked at GitLab. Each ended connection is audited with by="command".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from oauth_gateway.models import Application, AuditEvent, GitLabConnection, GitLabIdentity
from oauth_gateway.services.connections import connection_revoke, user_revoke_all

BY = AuditEvent.Actor.COMMAND


class Command(BaseCommand):
    help = "End connections now: all of one GitLab user, all of one client, or every connection."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", help="GitLab username or GitLab user id whose connections end.")
        parser.add_argument("--client", help="client_id of the MCP client whose connections end.")
        parser.add_argument("--all", action="store_true", help="End every active connection.")
        parser.add_argument("--yes", action="store_true", help="Do not ask before ending every connection (--all).")

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = [name for name in ("user", "client", "all") if options[name]]
        if len(chosen) != 1:
            raise CommandError("Choose exactly one of --user <GitLab username or id>, --client <client_id>, --all.")
        if options["user"]:
            identity = _identity(options["user"])
            ended = user_revoke_all(user=identity.user, by=BY)
            self.stdout.write(f"Ended {_connections(ended)} of {identity.username} (GitLab #{identity.gitlab_id}).")
        elif options["client"]:
            application = Application.objects.filter(client_id=options["client"]).first()
            if application is None:
                raise CommandError(f"No client has client_id {options['client']!r}.")
            ended = _revoke(GitLabConnection.objects.filter(application=application))
            self.stdout.write(f"Ended {_connections(ended)} of client {application.name or application.client_id}.")
        else:
            live = GitLabConnection.objects.filter(revoked__isnull=True)
            if not options["yes"] and not self._confirm(f"End all {_connections(live.count())}? [y/N] "):
                raise CommandError("Nothing revoked (confirm with --yes).")
            self.stdout.write(f"Ended {_connections(_revoke(live))}.")

    def _confirm(self, question: str) -> bool:
        try:
            return input(question).strip().lower() in ("y", "yes")
        except (EOFError, OSError):  # not interactive (no stdin, or stdin closed)
            return False


def _identity(ref: str) -> GitLabIdentity:
    ref = ref.strip().removeprefix("@")
    found = GitLabIdentity.objects.select_related("user")
    identity = found.filter(gitlab_id=int(ref)).first() if ref.isdigit() else found.filter(username__iexact=ref).first()
    if identity is None:
        raise CommandError(f"No GitLab user {ref!r} has signed in to this server.")
    return identity


def _revoke(connections: Any) -> int:
    live = connections.filter(revoked__isnull=True).order_by("pk")
    return sum(connection_revoke(connection=connection, by=BY) for connection in live)


def _connections(count: int) -> str:
    return f"{count} connection{'' if count == 1 else 's'}"
