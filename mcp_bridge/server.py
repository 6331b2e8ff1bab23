"""build_server(): the MCPServer with the tools this configuration allows."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

import mcp_bridge.tools  # noqa: F401  (records every tool in REGISTRY)
from mcp_bridge.context import current_caller
from mcp_bridge.registry import REGISTRY, ToolSpec
from mcp_bridge.shaping import slim_schema
from mcp_bridge.toolsets import DEFAULT_TOOLS, TOOLSETS

INSTRUCTIONS = (
    "Tools for GitLab, acting as the signed-in GitLab user. Projects are named by id or full path "
    "('group/project'); issues and merge requests by their project-level number (iid). "
    "List tools return one page plus next_page; long texts come in line windows you can page through."
)


def chosen_toolsets(names: Iterable[str]) -> set[str]:
    """The whole toolsets GITLAB_TOOLSETS names ('all' is every one; 'default' adds none)."""
    names = set(names)
    return set(TOOLSETS) if "all" in names else names & set(TOOLSETS)


def enabled_tools(*, read_only: bool, denied_regex: str, toolsets: Iterable[str] = ("all",)) -> list[ToolSpec]:
    """The tools of the chosen toolsets (and the default set when 'default' is named), minus
    writes in read-only mode and names matching the deny regex."""
    toolsets = list(toolsets)
    wanted = chosen_toolsets(toolsets)
    with_default = "default" in toolsets
    denied = re.compile(denied_regex) if denied_regex else None
    return [
        spec
        for spec in REGISTRY.values()
        if (spec.toolset in wanted or (with_default and spec.name in DEFAULT_TOOLS))
        and not (read_only and spec.writes)
        and not (denied and denied.search(spec.name))
    ]


class GitLabMCPServer(MCPServer):
    """The SDK's server, with argument errors a model can act on (the SDK passes pydantic's text on)."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            schema = (self._tool_input_schema(name) or {}).get("properties", {})
            raise ToolError(argument_errors(name, exc.__cause__, arguments, schema)) from None


def argument_errors(tool: str, error: ValidationError, arguments: dict[str, Any], schema: dict[str, Any]) -> str:
    """Which argument is wrong and what is expected, in plain words; unknown names are pointed out,
    since a misspelt argument shows up as a missing one."""
    problems = []
    for err in error.errors():
        name = ".".join(str(part) for part in err["loc"]) or "arguments"
        if err["type"] == "missing":
            hint = schema.get(name, {}).get("description", "").rstrip(".")
            problems.append(f"'{name}' is required" + (f" ({hint})" if hint else ""))
        else:
            got = repr(err.get("input"))[:60]
            problems.append(f"'{name}': {err['msg'][:1].lower()}{err['msg'][1:]} (got {got})")
    unknown = sorted(set(arguments) - set(schema))
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        problems.append(f"unknown argument {names}; {tool} takes: {', '.join(schema)}")
    return f"Invalid arguments for {tool}: " + "; ".join(problems) + "."


def build_server(tools: list[ToolSpec] | None = None) -> MCPServer:
    """The MCP server with `tools`, by default those the settings allow."""
    server = GitLabMCPServer(name="gitlab-mcp", title="GitLab", instructions=INSTRUCTIONS, version="0.1.0")
    if tools is None:
        tools = enabled_tools(
            read_only=settings.GITLAB_READ_ONLY_MODE,
            denied_regex=settings.GITLAB_DENIED_TOOLS_REGEX,
            toolsets=settings.GITLAB_TOOLSETS,
        )
    server.middleware.append(hide_writes_from_read_only_connections)
    for spec in tools:
        description = " ".join(inspect.cleandoc(spec.fn.__doc__ or "").split())
        # No outputSchema: ours would only say "an object", and costs the model's context on every
        # tool; the results still carry structuredContent (and the same JSON as text).
        server.add_tool(
            spec.fn, name=spec.name, description=description, annotations=spec.annotations, structured_output=False
        )
        registered = server._tool_manager.get_tool(spec.name)  # (no public accessor)
        assert registered is not None
        slim_schema(registered.parameters)
    return server


async def hide_writes_from_read_only_connections(ctx: Any, call_next: Any) -> Any:
    """A connection whose GitLab scopes are read-only (read_api) is not offered write tools at all."""
    result = await call_next(ctx)
    caller = current_caller.get()
    if ctx.method == "tools/list" and caller is not None and caller.read_only and isinstance(result, dict):
        tools = [t for t in result.get("tools", []) if (t.get("annotations") or {}).get("readOnlyHint")]
        result = {**result, "tools": tools}
    return result
