from __future__ import annotations

from django.apps import AppConfig


class MCPBridgeConfig(AppConfig):
    name = "mcp_bridge"
    verbose_name = "MCP bridge"
