"""The current MCP request as tools see it: who calls, GitLab as that caller, and the record of
each tool call for the audit log.

While a tool runs, `current_tool` holds the GitLab operations it declared: GitLab._request refuses
any other (and, in read-only mode, any write), whatever the tool's name, arguments or code path.

MCPApp sets the context variables before the SDK handles a request; the SDK runs tools in tasks
started from that request, which inherit them. Static-token mode has no caller and uses GITLAB_TOKEN.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from mcp.server.mcpserver.exceptions import ToolError

from mcp_bridge import graphql
from mcp_bridge.gitlab import (
    Credentials,
    GitLabClient,
    GitLabError,
    GitLabHTTPError,
    GitLabRefused,
    GitLabUnauthorized,
    GitLabUnavailable,
    RouteNotAllowed,
)
from mcp_bridge.graphql import Operation
from mcp_bridge.routes import SAFE_METHODS, Routes

if TYPE_CHECKING:
    import httpx

    from mcp_bridge.auth import Caller

READ_ONLY_SESSION = (
    "This session's GitLab token has read-only scopes (read_api), so GitLab tools that change things are "
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
                f"This server or session is read-only, so {self.tool} may not send {request} to GitLab. "
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
        """A query is a read; a mutation is a write, sent only by a write tool in a writable session."""
        if not operation.writes:
            return
        why = "this server or session is read-only" if self.read_only else "it is a read-only tool"
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
    """Time a tool call and keep its record for the audit log; refuse writes in read-only sessions;
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
            raise ToolError(READ_ONLY_SESSION)
        yield record
    except BaseException:
        if record.outcome == "ok":
            record.outcome = "error"
        raise
    finally:
        current_tool.reset(scope)
        record.duration_ms = int((time.perf_counter() - record.started) * 1000)


@functools.cache
def gitlab_client() -> GitLabClient:
    return GitLabClient(
        settings.GITLAB_API_BASE, timeout=settings.GITLAB_TIMEOUT, max_retries=settings.GITLAB_MAX_RETRIES
    )


@functools.cache
def _static_credentials() -> Credentials:
    return Credentials(settings.GITLAB_TOKEN)


class GitLab:
    """GitLab as the current caller sees it; `what` names the target in error messages."""

    def __init__(self, client: GitLabClient, creds: Credentials) -> None:
        self.client = client
        self.creds = creds

    async def get(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> Any:
        return (await self._request("GET", path, what=what, params=params)).json()

    async def text(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> str:
        return (await self._request("GET", path, what=what, params=params)).text

    async def page(
        self, path: str, *, what: str, page: int, per_page: int, params: dict[str, Any] | None = None
    ) -> tuple[list[Any], dict[str, int | None]]:
        """One page of a list, and GitLab's pagination headers (doc/api/rest/_index.md#pagination)."""
        query = {**(params or {}), "page": page, "per_page": per_page}
        response = await self._request("GET", path, what=what, params=query)
        headers = response.headers
        meta = {
            "page": _int_header(headers.get("x-page")) or page,
            "per_page": _int_header(headers.get("x-per-page")) or per_page,
            "next_page": _int_header(headers.get("x-next-page")),
            # GitLab omits the totals above 10,000 rows.
            "total": _int_header(headers.get("x-total")),
        }
        return response.json(), meta

    async def post(self, path: str, *, what: str, json: dict[str, Any] | None = None) -> Any:
        response = await self._request("POST", path, what=what, json=_drop_none(json))
        return response.json() if response.content else {}

    async def put(self, path: str, *, what: str, json: dict[str, Any] | None = None) -> Any:
        response = await self._request("PUT", path, what=what, json=_drop_none(json))
        return response.json() if response.content else {}

    async def delete(
        self, path: str, *, what: str, params: dict[str, Any] | None = None, json: dict[str, Any] | None = None
    ) -> None:
        await self._request("DELETE", path, what=what, params=params, json=_drop_none(json))

    async def upload(self, path: str, *, what: str, filename: str, content: bytes) -> Any:
        """POST one file as multipart/form-data field `file` (doc/api/project_markdown_uploads.md)."""
        response = await self._request("POST", path, what=what, files={"file": (filename, content)})
        return response.json()

    async def graphql(
        self, document: str, *, what: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run a GraphQL operation (POST /api/graphql); its `data`, or GraphQLError for `errors[]`.
        The audit row names the operation; read-only mode lets queries through and refuses mutations."""
        operation = graphql.operation(document, operation_name)
        scope = current_tool.get()
        if scope is not None and scope.record is not None:
            scope.record.detail["graphql"] = str(operation)[:200]
        body = {"query": document, "variables": variables or {}, "operationName": operation_name}
        response = await self._request("POST", graphql.PATH, what=what, json=_drop_none(body), operation=operation)
        return graphql.raise_for_errors(response.json(), what=what)

    async def raw(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """The whole response of a GET, for bytes and headers (raw files, artifacts)."""
        return await self._request("GET", path, what=what, params=params)

    async def _request(
        self, method: str, path: str, *, operation: Operation | None = None, **kwargs: Any
    ) -> httpx.Response:
        scope = current_tool.get()
        if scope is not None:  # a tool is running (not an OAuth code path, not a test's own client)
            scope.check(method, path, operation)
        try:
            return await self.client.request(method, path, self.creds, **kwargs)
        except GitLabUnauthorized:
            caller = current_caller.get()
            if caller is None:
                raise
        # OAuth mode: GitLab no longer takes the token (revoked or expired early). Refresh it once
        # (single flight across processes) and try again; if that fails the session has ended.
        from mcp_bridge.auth import Unauthorized, refreshed_gitlab_token
        from oauth_gateway.gitlab_oauth import GitLabOAuthError

        try:
            token = await sync_to_async(refreshed_gitlab_token, thread_sensitive=False)(caller)
        except Unauthorized as exc:
            raise GitLabUnauthorized(str(exc), 401) from None
        except GitLabOAuthError:
            # The session stays (GitLab's sign-in is down, or this server's client credentials are
            # being changed): this call fails readably and a later one refreshes.
            raise GitLabUnavailable(
                "GitLab could not renew this session's token just now; try again shortly."
            ) from None
        self.creds = Credentials(token, oauth=True)
        return await self.client.request(method, path, self.creds, **kwargs)


def gitlab() -> GitLab:
    return GitLab(gitlab_client(), current_credentials.get() or _static_credentials())


def _int_header(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _drop_none(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if data is None else {k: v for k, v in data.items() if v is not None}
