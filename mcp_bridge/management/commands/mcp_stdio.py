"""`python manage.py mcp_stdio`: the same tools over stdio, for an MCP client that launches the server.

Static-token mode only (GITLAB_TOKEN): there is no one to sign in on a pipe. Logs go to stderr; stdout
carries only MCP messages.
"""

from __future__ import annotations

from typing import Any

import anyio
from django.conf import settings
from django.core.checks.registry import registry
from django.core.management.base import BaseCommand, CommandError

from mcp_bridge.server import build_server
from oauth_gateway.checks import SERVING


class Command(BaseCommand):
    help = "Serve the GitLab tools over stdio (static-token mode, GITLAB_TOKEN)."
    # Every configuration check but the HTTP listener's (HOST, PUBLIC_URL, MCP_AUTH_TOKEN): a pipe has
    # no port to expose, e.g. in the image, whose HOST is 0.0.0.0. (Commands load after the apps are
    # ready, so every check is registered by now.)
    requires_system_checks = [tag for tag in registry.tags_available() if tag != SERVING]

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.GITLAB_TOKEN:
            raise CommandError("mcp_stdio acts with one token: set GITLAB_TOKEN (OAuth sign-in needs HTTP).")
        anyio.run(build_server().run_stdio_async)
