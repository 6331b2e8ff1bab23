"""build_server(): the MCPServer with the tools this configuration allows."""

from __future__ import annotations

import inspect
import re
from typing import Any

from django.conf import settings
from mcp.server.mcpserver import MCPServer

import mcp_bridge.tools  # noqa: F401  (records every tool in REGISTRY)
from mcp_bridge.toolkit import REGISTRY, ToolSpec

INSTRUCTIONS = (
    "Tools for GitLab, acting as the signed-in GitLab user. Projects are named by id or full path "
    "('group/project'); issues and merge requests by their project-level number (iid). "
    "List tools return one page plus next_page; long texts come in line windows you can page through."
)


def enabled_tools(*, read_only: bool, denied_regex: str) -> list[ToolSpec]:
    """The recorded tools minus writes in read-only mode and names matching the deny regex."""
    denied = re.compile(denied_regex) if denied_regex else None
    return [
        spec
        for spec in REGISTRY.values()
        if not (read_only and spec.writes) and not (denied and denied.search(spec.name))
    ]


def build_server() -> MCPServer:
    server = MCPServer(name="gitlab-mcp", title="GitLab", instructions=INSTRUCTIONS, version="0.1.0")
    tools = enabled_tools(read_only=settings.GITLAB_READ_ONLY_MODE, denied_regex=settings.GITLAB_DENIED_TOOLS_REGEX)
    for spec in tools:
        description = " ".join(inspect.cleandoc(spec.fn.__doc__ or "").split())
        server.add_tool(spec.fn, name=spec.name, description=description, annotations=spec.annotations)
        registered = server._tool_manager.get_tool(spec.name)
        assert registered is not None
        _drop_titles(registered.parameters)
    return server


def _drop_titles(schema: dict[str, Any]) -> None:
    """Pydantic's generated titles repeat the property names: drop them to save the model's context."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
