"""The one NinjaAPI of the project: JSON endpoints outside MCP (health, and the OAuth app's)."""

from __future__ import annotations

from ninja import NinjaAPI

from config.health import router as health_router
from oauth_gateway.api import router as gateway_router

api = NinjaAPI(title="gitlab-mcp", version="1", docs_url=None, urls_namespace="api")
api.add_router("", health_router)
api.add_router("", gateway_router)
