"""`python manage.py mcp_stdio`: the same tools over stdio, for an MCP client that launches the server.

Static-token mode only (GITLAB_TOKEN): there is no one to sign in on a pipe. Logs go to stderr; stdout
carries only MCP messages.
"""

from __future__ import annotations

from typing import Any

import anyio
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mcp_bridge.server import build_server


class Command(BaseCommand):
    help = "Serve the GitLab tools over stdio (static-token mode, GITLAB_TOKEN)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.GITLAB_TOKEN:
            raise CommandError("mcp_stdio acts with one token: set GITLAB_TOKEN (OAuth sign-in needs HTTP).")
        anyio.run(build_server().run_stdio_async)
