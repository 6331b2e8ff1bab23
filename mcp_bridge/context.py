"""The request context: what a tool call knows of the MCP request it serves, in one place.

Four context variables, set per request by the ASGI app (mcp_bridge.asgi) before the SDK handles it;
the SDK runs tools in tasks started from that request, which inherit them:

- `current_caller`: the signed-in caller (mcp_bridge.auth.Caller); None in static-token mode, where
  GitLab is called with GITLAB_TOKEN.
- `current_credentials`: how GitLab is called for that caller (mcp_bridge.gitlab.Credentials).
- `current_calls`: the request's list of CallRecord, one per tool call, written to the audit log
  after the response (never arguments' contents, never a secret).
- `current_tool`: while a tool runs, its ToolScope: the GitLab operations it declared.
  GitLab._request refuses any other (and, in read-only mode, any write), whatever the tool's name,
  arguments or code path.

`record_call()` is how the tool decorator (mcp_bridge.registry) opens a tool call: it adds the
CallRecord, sets `current_tool`, refuses writes in a read-only connection, and times the call.

Routes: the GitLab operations a tool may send, declared as GitLab's API docs write them. A tool
declares its routes once, `@tool(..., routes=("DELETE /projects/:id/labels/:label_id",))`; paths are
relative to /api/v4. `:name` is exactly one non-empty path segment that is not '.' or '..'; `*name`
is one or more of them (a file inside an artifacts archive). The templates are compiled once, into
one regex per tool, because every request a tool sends is checked against it (ToolScope.check).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from mcp.server.mcpserver.exceptions import ToolError

from mcp_bridge.errors import GitLabError, GitLabHTTPError, GitLabRefused, RouteNotAllowed

if TYPE_CHECKING:
    from mcp_bridge.auth import Caller
    from mcp_bridge.gitlab import Credentials
    from mcp_bridge.graphql import Operation

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
SEGMENT = r"(?!\.\.?(?:/|$))[^/]+"  # one segment, never a dot segment
TEMPLATE = re.compile(r"(?P<method>[A-Z]+) (?P<path>(?:/[^/?#\s]+)+)")


@dataclass(frozen=True, slots=True)
class Routes:
    """Declared templates and the one regex over "METHOD /path" that matches any of them."""

    templates: tuple[str, ...]
    pattern: re.Pattern[str] | None  # None: nothing declared, so nothing is allowed

    def allows(self, method: str, path: str) -> bool:
        """Whether `method` `path` (relative to /api/v4; a query string is ignored) is declared."""
        path = path.split("?", 1)[0]
        return self.pattern is not None and self.pattern.fullmatch(f"{method} {path}") is not None


def compile_routes(templates: Iterable[str]) -> Routes:
    """Routes from templates like "GET /projects/:id/jobs/:job_id/artifacts/*artifact_path"; raises
    ValueError for a malformed one, so that a typo fails at import, not on a user's call."""
    templates = tuple(templates)
    alternatives = [_regex(template) for template in templates]
    pattern = re.compile("|".join(f"(?:{alt})" for alt in alternatives)) if alternatives else None
    return Routes(templates, pattern)


def _regex(template: str) -> str:
    found = TEMPLATE.fullmatch(template)
    if found is None or found["method"] not in METHODS:
        raise ValueError(f"route {template!r}: expected 'METHOD /path/:param', e.g. 'GET /projects/:id'")
    parts = []
    for segment in found["path"].split("/")[1:]:
        if re.fullmatch(r":\w+", segment):
            parts.append(SEGMENT)
        elif re.fullmatch(r"\*\w+", segment):
            parts.append(f"{SEGMENT}(?:/{SEGMENT})*")
        elif segment in (".", "..") or not re.fullmatch(r"[\w.~-]+", segment):
            raise ValueError(f"route {template!r}: {segment!r} is neither a literal segment nor a :param")
        else:
            parts.append(re.escape(segment))
    return re.escape(found["method"]) + " /" + "/".join(parts)


READ_ONLY_CONNECTION = (
    "This connection's GitLab token has read-only scopes (read_api), so GitLab tools that change things are "
    "unavailable. Sign in again and grant the 'api' scope to use them."
)


@dataclass
class CallRecord:
    """One tool call, as the audit log keeps it: never arguments' contents, never a secret."""

    tool: str
    project: str = ""
    outcome: str = "ok"
    gitlab_status: int | None = None
    duration_ms: int = 0
    started: float = field(default_factory=time.perf_counter)
    detail: dict[str, Any] = field(default_factory=dict)  # why a call was denied; a GraphQL operation

    def failed(self, exc: GitLabError) -> None:
        if isinstance(exc, GitLabRefused):
            self.outcome, self.detail = "denied", exc.detail
            return
        self.outcome = "error"
        self.gitlab_status = exc.status if isinstance(exc, GitLabHTTPError) else None


@dataclass(frozen=True, slots=True)
class ToolScope:
    """The running tool as its GitLab requests see it: the routes it declared, and whether writes are off."""

    tool: str
    routes: Routes
    writes: bool
    read_only: bool
    record: CallRecord | None = None

    def check(self, method: str, path: str, operation: Operation | None = None) -> None:
        """Refuse (RouteNotAllowed) a request this tool may not send; called before each one.
        A GraphQL request is a read or a write by its `operation`, whatever its method."""
        request = f"{method} {path.split('?', 1)[0]}"
        if operation is not None:
            self._check_operation(operation, request)
        elif self.read_only and self.writes and method not in SAFE_METHODS:
            raise RouteNotAllowed(
                f"This server or connection is read-only, so {self.tool} may not send {request} to GitLab. "
                "Nothing was sent.",
                refused="read-only",
                request=request[:200],
            )
        if not self.routes.allows(method, path):
            raise RouteNotAllowed(
                f"{self.tool} may not send {request} to GitLab: it is not one of the operations this tool "
                "declares. Nothing was sent.",
                refused="undeclared route",
                request=request[:200],
            )

    def _check_operation(self, operation: Operation, request: str) -> None:
        """A query is a read; a mutation is a write, sent only by a write tool in a writable connection."""
        if not operation.writes:
            return
        why = "this server or connection is read-only" if self.read_only else "it is a read-only tool"
        if self.read_only or not self.writes:
            raise RouteNotAllowed(
                f"{self.tool} may not send the GraphQL {operation} to GitLab: {why}, and a mutation "
                "changes things. Nothing was sent.",
                refused="read-only" if self.read_only else "mutation from a read tool",
                request=request,
                graphql=str(operation)[:200],
            )


current_caller: ContextVar[Caller | None] = ContextVar("current_caller", default=None)
current_credentials: ContextVar[Credentials | None] = ContextVar("current_credentials", default=None)
current_calls: ContextVar[list[CallRecord] | None] = ContextVar("current_calls", default=None)
current_tool: ContextVar[ToolScope | None] = ContextVar("current_tool", default=None)


@contextmanager
def record_call(tool: str, arguments: dict[str, Any], *, writes: bool, routes: Routes) -> Iterator[CallRecord]:
    """Time a tool call and keep its record for the audit log; refuse writes in read-only connections;
    while it runs, let GitLab send only the `routes` the tool declared."""
    where = arguments.get("project") or arguments.get("group") or arguments.get("namespace")  # work items: either
    record = CallRecord(tool=tool, project=str(where or "")[:255])
    calls = current_calls.get()
    if calls is not None:
        calls.append(record)
    caller = current_caller.get()
    read_only = settings.GITLAB_READ_ONLY_MODE or (caller is not None and caller.read_only)
    scope = current_tool.set(ToolScope(tool, routes, writes, read_only, record))
    try:
        if writes and caller is not None and caller.read_only:
            record.outcome, record.detail = "denied", {"refused": "read-only session"}
            raise ToolError(READ_ONLY_CONNECTION)
        yield record
    except BaseException:
        if record.outcome == "ok":
            record.outcome = "error"
        raise
    finally:
        current_tool.reset(scope)
        record.duration_ms = int((time.perf_counter() - record.started) * 1000)
