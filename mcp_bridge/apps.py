from __future__ import annotations

from django.apps import AppConfig


class MCPBridgeConfig(AppConfig):
    name = "mcp_bridge"
    verbose_name = "MCP bridge"

    def ready(self) -> None:
        from mcp_bridge import checks  # noqa: F401  (registers the tool settings' checks)
