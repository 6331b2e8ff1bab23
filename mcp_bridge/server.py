"""The MCP server: build_server() (the SDK's MCPServer with the tools this configuration allows,
and our middleware) and FastPath, the lean way into its handler chain for the common POST.

The lean path: one JSON-RPC request, answered with one JSON body. The SDK's stateless transport
builds, for every POST, a transport, memory streams, a task group and a dispatcher, only to run one
handler and write one answer. Here a request the SDK would accept as it stands (the checks below
mirror its transport's, and whatever they do not cover goes to the SDK) is parsed once and handed to
the same handler chain the SDK's dispatcher calls (`serve_one`: validation, the tool's schema,
middleware, result shaping), and its answer is written as the SDK writes it. So the answers are the
SDK's: tests/e2e/test_mcp_fastpath.py compares the two paths on good and bad requests.

What the SDK keeps: GET (SSE) and DELETE, notifications and responses, batches, initialize, any
other method, the 2026-07-28 era (header-routed, its own single-exchange entry), requests whose
headers or body are not plainly valid (its error answers stay its own), and any request asking for
progress (`_meta.progressToken`), whose notifications need the SDK's response stream.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from django.conf import settings
from mcp.server.connection import Connection
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.runner import serve_one
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp.shared.transport_context import TransportContext
from mcp_types import DEFAULT_NEGOTIATED_VERSION, PROTOCOL_VERSION_META_KEY, ErrorData
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError

import mcp_bridge.tools  # noqa: F401  (records every tool in REGISTRY)
from mcp_bridge.context import current_caller
from mcp_bridge.registry import REGISTRY, ToolSpec
from mcp_bridge.shaping import slim_schema
from mcp_bridge.toolsets import DEFAULT_TOOLS, TOOLSETS

log = logging.getLogger(__name__)

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


# The lean path (FastPath)

FAST_METHODS = frozenset({"tools/call", "tools/list", "ping"})
REQUEST_KEYS = frozenset({"jsonrpc", "id", "method", "params"})
# As the SDK's stateless transport describes a POST's channel: no server-to-client requests.
TRANSPORT = TransportContext(kind="streamable-http", can_send_request=False)
JSON_HEADERS = (b"content-type", b"application/json")


@dataclass(frozen=True, slots=True)
class Request:
    """A JSON-RPC request the fast path serves."""

    id: str | int
    method: str
    params: dict[str, Any] | None
    protocol_version: str


@dataclass
class Exchange:
    """The dispatch context of one POST answered with one JSON body (mcp.shared.dispatcher's
    DispatchContext): nothing can travel back to the client before the answer, as in the SDK's
    JSON-response mode. Requests that could want that (progress) never come here."""

    request_id: str | int
    transport: TransportContext = TRANSPORT
    message_metadata: None = None
    can_send_request: bool = False
    _cancel: anyio.Event | None = field(default=None, repr=False)

    @property
    def cancel_requested(self) -> anyio.Event:
        if self._cancel is None:
            self._cancel = anyio.Event()
        return self._cancel

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        log.debug("dropped %s: a JSON answer has no room for notifications", method)

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        return None


class FastPath:
    """Decides whether a POST is the fast path's, and serves it with the server's handlers."""

    def __init__(self, server: Any, security: TransportSecuritySettings, max_body: int) -> None:
        self.server = server  # the low-level mcp Server (the handler registry)
        self.hosts = frozenset(security.allowed_hosts)
        self.host_prefixes = tuple(h[:-1] for h in security.allowed_hosts if h.endswith(":*"))
        self.origins = frozenset(security.allowed_origins)
        self.origin_prefixes = tuple(o[:-1] for o in security.allowed_origins if o.endswith(":*"))
        self.max_body = max_body

    def takes(self, scope: dict[str, Any]) -> bool:
        """Whether the headers are ones the SDK's transport accepts as they stand (every check it
        makes before reading the body); any doubt leaves the request to the SDK."""
        if scope["method"] != "POST":
            return False
        content_type = accept = host = origin = version = length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"accept":
                accept = value
            elif name == b"host":
                host = value
            elif name == b"origin":
                origin = value
            elif name == b"mcp-protocol-version":
                version = version or value
            elif name == b"content-length":
                length = value
        if content_type is None or content_type.split(b";", 1)[0].strip() != b"application/json":
            return False
        if accept is None or not _accepts_json(accept):
            return False
        if version is not None and version.decode("latin-1") not in HANDSHAKE_PROTOCOL_VERSIONS:
            return False
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return False
        if host is None or not _listed(host.decode("latin-1"), self.hosts, self.host_prefixes):
            return False
        return origin is None or _listed(origin.decode("latin-1"), self.origins, self.origin_prefixes)

    async def read(self, scope: dict[str, Any], receive: Any, serve: bool = True) -> tuple[Request | None, Any, bool]:
        """The request (only if `serve`), or None with a `receive` that replays what was read, for the
        SDK; and whether the body asks for progress (`_meta.progressToken`), which the SDK must answer
        as a stream."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None, _replay([message], receive), False
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.max_body or not more:
                break
        body = b"".join(chunks)
        replay = _replay([{"type": "http.request", "body": body, "more_body": more}], receive)
        if more:
            return None, replay, False
        request = parse(body, _header(scope, b"mcp-protocol-version"))
        if request is not None and serve:
            return request, receive, False
        return None, replay, asks_progress(body)

    async def serve(self, request: Request, lifespan_state: Any, send: Any) -> None:
        """Run the request through the server's handler chain and send the answer."""
        connection = Connection.from_envelope(request.protocol_version, None, None)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request.id}
        try:
            message["result"] = await serve_one(
                self.server,
                Exchange(request.id),
                request.method,
                request.params,
                connection=connection,
                lifespan_state=lifespan_state,
            )
        except Exception as exc:
            # As the SDK's dispatcher answers a handler's failure (including its code 0).
            error = handler_exception_to_error_data(exc)
            if error is None:
                log.exception("handler for %r raised", request.method)
                error = ErrorData(code=0, message=str(exc))
            message["error"] = error.model_dump(by_alias=True, exclude_unset=True)
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        headers = [JSON_HEADERS, (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def parse(body: bytes, version_header: str | None) -> Request | None:
    """The request in `body` if it is one plain JSON-RPC request for a fast method, else None."""
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(decoded, dict) or not decoded.keys() <= REQUEST_KEYS or decoded.get("jsonrpc") != "2.0":
        return None
    request_id, method, params = decoded.get("id"), decoded.get("method"), decoded.get("params")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int) or method not in FAST_METHODS:
        return None
    if params is not None:
        if not isinstance(params, dict):
            return None
        meta = params.get("_meta")
        # Progress needs the SDK's response stream; a 2026-era envelope its era routing.
        if meta is not None and (
            not isinstance(meta, dict) or "progressToken" in meta or PROTOCOL_VERSION_META_KEY in meta
        ):
            return None
    return Request(request_id, method, params, version_header or DEFAULT_NEGOTIATED_VERSION)


def asks_progress(body: bytes) -> bool:
    """Whether a JSON-RPC request body carries `params._meta.progressToken` (MCP basic/utilities/progress)."""
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return False
    params = decoded.get("params") if isinstance(decoded, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and "progressToken" in meta


def accepts_event_stream(scope: dict[str, Any]) -> bool:
    accept = _header(scope, b"accept") or ""
    return "text/event-stream" in {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}


def _accepts_json(accept: bytes) -> bool:
    types = {part.split(b";", 1)[0].strip().lower() for part in accept.split(b",")}
    return bool(types & {b"*/*", b"application/json", b"application/*"})


def _listed(value: str, exact: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    """As the SDK's DNS-rebinding check matches Host and Origin: exactly, or `name:*` for any port."""
    return value in exact or any(value.startswith(prefix) for prefix in prefixes)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    async def replay() -> dict[str, Any]:
        return messages.pop(0) if messages else await receive()

    return replay
