"""ASGI entry point (Daphne: `daphne config.asgi:application`, made by build_application()).
Composition only.

MCP requests go to mcp_bridge: everything under /mcp, and POST/DELETE (or an SSE GET) on / because
Claude.ai connectors post to the URL the user typed. Everything else goes to Django.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings

from config.proxy import forwarded_scope

if TYPE_CHECKING:
    from channels.routing import ProtocolTypeRouter

    from mcp_bridge.asgi import MCPApp

ASGIApp = Any  # an ASGI application: async (scope, receive, send) -> None
access_log = logging.getLogger("gitlab_mcp.access")


def build_application() -> ProtocolTypeRouter:
    """Set Django up, refuse a broken configuration (the system checks), build the MCP app (all tool
    schemas) and the router in front of it, then freeze what start-up made (see below)."""
    from django.core.asgi import get_asgi_application

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django_app = get_asgi_application()

    from channels.routing import ProtocolTypeRouter  # after Django is set up

    from config.daphne.requests import skip_form_parsing
    from config.startup import assert_configured
    from mcp_bridge.asgi import MCPApp

    assert_configured()
    skip_form_parsing()
    mcp_app = MCPApp()
    application = ProtocolTypeRouter({"http": HTTPRouter(mcp_app, django_app), "lifespan": mcp_app})
    # The ~170,000 objects made at start-up (Django, the SDK, pydantic's tool schemas) live as long as
    # the process: out of the collector's sight, a full collection takes well under a millisecond
    # instead of 100-400 ms, which every few hundred requests stalled whatever was in flight (p99).
    gc.freeze()
    return application


def mcp_app_of(application: ProtocolTypeRouter) -> MCPApp:
    """The MCP app of an application build_application() made: the server stops it at shutdown."""
    mcp_app: MCPApp = application.application_mapping["lifespan"]
    return mcp_app


def is_mcp_request(scope: dict[str, Any]) -> bool:
    path = scope["path"]
    if path in ("/mcp", "/mcp/"):
        return True
    if path != "/":
        return False
    if scope["method"] in ("POST", "DELETE", "OPTIONS"):  # OPTIONS: CORS preflights (mcp_bridge.admission)
        return True
    accept = dict(scope["headers"]).get(b"accept", b"")
    return scope["method"] == "GET" and b"text/event-stream" in accept


class HTTPRouter:
    """MCP requests to the MCP app, the rest to Django; one access-log line for each."""

    def __init__(self, mcp_app: ASGIApp, django_app: ASGIApp) -> None:
        self.mcp_app = mcp_app
        self.django_app = django_app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if settings.TRUSTED_PROXIES:
            scope = forwarded_scope(scope)
        app = self.mcp_app if is_mcp_request(scope) else self.django_app
        if not access_log.isEnabledFor(logging.INFO):
            await app(scope, receive, send)
            return
        started, status = time.perf_counter(), 0
        # The MCP app notes who called and which tools ran (mcp_bridge.asgi), for this request's line.
        note: dict[str, Any] = {}
        scope["gitlab_mcp.note"] = note

        async def send_and_note_status(message: Mapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_note_status)
        finally:
            log_request(scope, status, (time.perf_counter() - started) * 1000, note)


def log_request(scope: dict[str, Any], status: int, elapsed_ms: float, note: dict[str, Any]) -> None:
    """One access-log line. The path only: query strings can carry authorization codes and states."""
    client = (scope.get("client") or ("-",))[0]
    fields = {
        "client_ip": client,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(elapsed_ms, 1),
        **note,
    }
    message = f"{client} {scope['method']} {scope['path']} {status} {elapsed_ms:.1f}ms"
    if note:
        message += "".join(f" {k}={','.join(v) if isinstance(v, list) else v}" for k, v in note.items())
    # Health probes (Docker, monitors: every few seconds) only at DEBUG, unless they fail.
    level = logging.DEBUG if scope["path"] == "/health" and status == 200 else logging.INFO
    access_log.log(level, message, extra=fields)


# What Daphne loads (`config.asgi:application`; it has no factory option).
application = build_application()
