"""`python manage.py serve`: check the configuration, migrate, say whose GitLab token it uses (or what
the GitLab OAuth application needs), then run Daphne on HOST:PORT.

The Dockerfile and the README start the server with this same command.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.startup import ACTING_AS_VARIABLE, daphne_argv, report_configuration


class Command(BaseCommand):
    help = "Apply database migrations, then serve HTTP (MCP at /mcp) with Daphne on HOST:PORT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrations (another replica runs them).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=max(0, options["verbosity"] - 1))
        acting_as = report_configuration()  # whose GitLab token, or what to register in GitLab
        # The Daphne process audits tool calls under that GitLab user (mcp_bridge.asgi); never a stale one.
        os.environ.pop(ACTING_AS_VARIABLE, None)
        if acting_as:
            os.environ[ACTING_AS_VARIABLE] = acting_as
        self.stdout.write(
            f"gitlab-mcp listening on http://{settings.HOST}:{settings.PORT}/mcp (public URL {settings.PUBLIC_URL})"
        )
        self.stdout.flush()
        argv = daphne_argv(settings.HOST, settings.PORT)
        # Replace this process, so that signals (SIGTERM from Docker or systemd) reach Daphne directly.
        os.execv(sys.executable, argv)  # noqa: S606
