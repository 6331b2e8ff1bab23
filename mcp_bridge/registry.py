"""The tool registry: the @tool decorator, each tool's ToolSpec, and REGISTRY, which holds them all.

A tool is one `async def` in an area of `mcp_bridge/tools/` (a module, or a package such as
merge_requests/), decorated with `@tool(READ, "area")`.
The decorator records it; `mcp_bridge.server.build_server()` registers the recorded tools that the
configuration allows. GitLab errors are turned into tool errors here, once, for every tool; so is a
refusal to send, which names the argument whose value would have left its URL path segment.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from mcp_bridge.context import Routes, compile_routes, record_call
from mcp_bridge.errors import GitLabError, UnsafePathSegment
from mcp_bridge.toolsets import TOOLSETS

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)

ToolFn = TypeVar("ToolFn", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True, slots=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    toolset: str
    annotations: ToolAnnotations
    routes: Routes

    @property
    def writes(self) -> bool:
        return not self.annotations.read_only_hint


REGISTRY: dict[str, ToolSpec] = {}


def tool(annotations: ToolAnnotations, toolset: str, *, routes: Iterable[str] = ()) -> Callable[[ToolFn], ToolFn]:
    """Record an async function as a GitLab tool of `toolset`; its docstring is its description.

    `routes` are the GitLab operations the tool may send, as GitLab's docs write them:
    "DELETE /projects/:id/labels/:label_id" (`:name` is exactly one path segment, `*name` one or more).
    It may send no other (mcp_bridge.context.Routes); a tool that declares none may send nothing.
    """
    allowed = compile_routes(routes)

    def decorate(fn: ToolFn) -> ToolFn:
        writes = not annotations.read_only_hint

        @functools.wraps(fn)
        async def run(*args: Any, **kwargs: Any) -> Any:
            with record_call(fn.__name__, kwargs, writes=writes, routes=allowed) as call:
                try:
                    result = await fn(*args, **kwargs)
                except UnsafePathSegment as exc:
                    message = exc.naming([k for k, v in kwargs.items() if _holds(v, exc.value)])
                    call.failed(exc)
                    raise ToolError(message) from None
                except GitLabError as exc:
                    call.failed(exc)
                    raise ToolError(str(exc)) from None
            return as_tool_result(result)

        if fn.__name__ in REGISTRY:
            raise ValueError(f"tool {fn.__name__} is defined twice")
        if toolset not in TOOLSETS:
            raise ValueError(f"tool {fn.__name__}: unknown toolset {toolset!r}")
        REGISTRY[fn.__name__] = ToolSpec(run, fn.__name__, toolset, annotations, allowed)
        return fn

    return decorate


def _holds(argument: Any, value: str) -> bool:
    """Whether a tool argument is the value refused in a URL path (path_id strips spaces first)."""
    return isinstance(argument, str) and argument.strip() == value.strip()


def as_tool_result(result: dict[str, Any]) -> CallToolResult:
    """Structured content plus the same JSON, compact, as text for clients that read only text
    (the SDK's default text is indented, which costs the model's context about a third more)."""
    text = json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result)
