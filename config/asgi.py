"""ASGI entry point (Daphne: `daphne config.asgi:application`). Composition only.

MCP requests go to mcp_bridge: everything under /mcp, and POST/DELETE (or an SSE GET) on / because
Claude.ai connectors post to the URL the user typed. Everything else goes to Django.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (after Django is set up)

from config.startup import assert_configured  # noqa: E402
from mcp_bridge.asgi import MCPApp  # noqa: E402

assert_configured()
mcp_app = MCPApp()


def is_mcp_request(scope: dict[str, Any]) -> bool:
    path = scope["path"]
    if path in ("/mcp", "/mcp/"):
        return True
    if path != "/":
        return False
    if scope["method"] in ("POST", "DELETE"):
        return True
    accept = dict(scope["headers"]).get(b"accept", b"")
    return scope["method"] == "GET" and b"text/event-stream" in accept


async def http_router(scope: dict[str, Any], receive: Any, send: Any) -> None:
    app = mcp_app if is_mcp_request(scope) else django_app
    await app(scope, receive, send)


application = ProtocolTypeRouter({"http": http_router, "lifespan": mcp_app})
