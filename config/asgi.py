"""ASGI entry point (Daphne: `daphne config.asgi:application`). Composition only.

MCP requests go to mcp_bridge: everything under /mcp, and POST/DELETE (or an SSE GET) on / because
Claude.ai connectors post to the URL the user typed. Everything else goes to Django.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (after Django is set up)
from django.conf import settings  # noqa: E402

from config.proxy import forwarded_scope  # noqa: E402
from config.startup import assert_configured  # noqa: E402
from mcp_bridge.asgi import MCPApp  # noqa: E402

assert_configured()
mcp_app = MCPApp()
access_log = logging.getLogger("gitlab_mcp.access")


def is_mcp_request(scope: dict[str, Any]) -> bool:
    path = scope["path"]
    if path in ("/mcp", "/mcp/"):
        return True
    if path != "/":
        return False
    if scope["method"] in ("POST", "DELETE", "OPTIONS"):  # OPTIONS: CORS preflights (mcp_bridge.cors)
        return True
    accept = dict(scope["headers"]).get(b"accept", b"")
    return scope["method"] == "GET" and b"text/event-stream" in accept


async def http_router(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if settings.TRUSTED_PROXIES:
        scope = forwarded_scope(scope)
    app = mcp_app if is_mcp_request(scope) else django_app
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


application = ProtocolTypeRouter({"http": http_router, "lifespan": mcp_app})

# The ~170,000 objects made at start-up (Django, the SDK, pydantic's tool schemas) live as long as the
# process: out of the collector's sight, a full collection takes well under a millisecond instead of
# 100-400 ms, which every few hundred requests stalled whatever was in flight (the p99 tail).
gc.freeze()
