"""build_server(): the MCPServer with the tools this configuration allows."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from mcp.server.mcpserver import MCPServer

import mcp_bridge.tools  # noqa: F401  (records every tool in REGISTRY)
from mcp_bridge.toolkit import DEFAULT_TOOLSETS, REGISTRY, TOOLSETS, ToolSpec

INSTRUCTIONS = (
    "Tools for GitLab, acting as the signed-in GitLab user. Projects are named by id or full path "
    "('group/project'); issues and merge requests by their project-level number (iid). "
    "List tools return one page plus next_page; long texts come in line windows you can page through."
)


def chosen_toolsets(names: Iterable[str]) -> set[str]:
    """GITLAB_TOOLSETS resolved: 'all', 'default' (DEFAULT_TOOLSETS) and toolset names, combined."""
    chosen: set[str] = set()
    for name in names:
        if name == "all":
            chosen |= set(TOOLSETS)
        elif name == "default":
            chosen |= set(DEFAULT_TOOLSETS)
        else:
            chosen.add(name)
    return chosen


def enabled_tools(*, read_only: bool, denied_regex: str, toolsets: Iterable[str] = ("all",)) -> list[ToolSpec]:
    """The recorded tools of the chosen toolsets, minus writes in read-only mode and denied names."""
    denied = re.compile(denied_regex) if denied_regex else None
    wanted = chosen_toolsets(toolsets)
    return [
        spec
        for spec in REGISTRY.values()
        if spec.toolset in wanted and not (read_only and spec.writes) and not (denied and denied.search(spec.name))
    ]


def build_server(tools: list[ToolSpec] | None = None) -> MCPServer:
    """The MCP server with `tools`, by default those the settings allow."""
    server = MCPServer(name="gitlab-mcp", title="GitLab", instructions=INSTRUCTIONS, version="0.1.0")
    if tools is None:
        tools = enabled_tools(
            read_only=settings.GITLAB_READ_ONLY_MODE,
            denied_regex=settings.GITLAB_DENIED_TOOLS_REGEX,
            toolsets=settings.GITLAB_TOOLSETS,
        )
    for spec in tools:
        description = " ".join(inspect.cleandoc(spec.fn.__doc__ or "").split())
        server.add_tool(spec.fn, name=spec.name, description=description, annotations=spec.annotations)
        registered = server._tool_manager.get_tool(spec.name)  # (no public accessor)
        assert registered is not None
        slim_schema(registered.parameters)
        if registered.output_schema is not None:
            slim_schema(registered.output_schema)
    return server


def slim_schema(schema: dict[str, Any]) -> None:
    """Trim what pydantic generates but the model gains nothing from, to save its context:
    titles that repeat property names, `default: null`, and `anyOf [X, null]` (as `type: [X, "null"]`)."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        options = prop.get("anyOf")
        if options and len(options) == 2 and {"type": "null"} in options:
            other = next(o for o in options if o != {"type": "null"})
            if isinstance(other.get("type"), str) and not {"anyOf", "oneOf", "allOf", "$ref"} & set(other):
                del prop["anyOf"]
                prop.update(other, type=[other["type"], "null"])
                if "enum" in prop:
                    prop["enum"] = [*prop["enum"], None]
