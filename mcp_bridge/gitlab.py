"""GitLab as the tools reach it: the REST client (httpx requests on the keep-alive transport of
mcp_bridge.transport, retries, errors mapped to the tree in mcp_bridge.errors) and `gitlab()`, the
facade through which a tool calls GitLab as the current caller, with the tool's routes checked and
one refresh on 401.

`gitlab_client()` and the static-token credentials are made once per process from the settings,
and made again when a test changes those settings (override_settings; see `_settings_changed`).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.signals import setting_changed

from mcp_bridge import graphql
from mcp_bridge.context import current_caller, current_credentials, current_tool
from mcp_bridge.errors import (
    GitLabForbidden,
    GitLabHTTPError,
    GitLabNotFound,
    GitLabRateLimited,
    GitLabRejected,
    GitLabServerError,
    GitLabUnauthorized,
    GitLabUnavailable,
    UnsafePathSegment,
)
from mcp_bridge.graphql import Operation
from mcp_bridge.paths import climbs, encode_params
from mcp_bridge.transport import for_environment

IDEMPOTENT = frozenset({"GET", "HEAD"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
POOL = {"max_connections": 100, "max_keepalive_connections": 20}
# As httpx's client sends them (no brotli or zstd: neither decoder is installed).
HEADERS = {"User-Agent": "gitlab-mcp", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
MAX_RETRY_WAIT = 10.0  # seconds; a longer Retry-After is reported instead of waited for


@dataclass(frozen=True, slots=True)
class Credentials:
    """How one caller authenticates to GitLab: a personal token or an OAuth access token."""

    token: str
    oauth: bool = False

    def headers(self) -> dict[str, str]:
        # Personal/project tokens go in PRIVATE-TOKEN; OAuth tokens as Bearer (doc/api/rest/authentication.md).
        if self.oauth:
            return {"Authorization": f"Bearer {self.token}"}
        return {"PRIVATE-TOKEN": self.token}

    def __repr__(self) -> str:
        return f"Credentials(oauth={self.oauth}, token=***)"


class ViaClient(httpx.AsyncBaseTransport):
    """httpx's own client as a transport, for when the environment names a proxy (HTTP_PROXY,
    HTTPS_PROXY, ALL_PROXY), which it honours, NO_PROXY included."""

    def __init__(self, timeout: httpx.Timeout) -> None:
        self.client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(**POOL), trust_env=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.client.send(request)  # cookies it keeps are never sent: requests are built here

    async def aclose(self) -> None:
        await self.client.aclose()


class GitLabClient:
    """Talks to one GitLab's REST API (`<base>/api/v4`) for any number of callers."""

    def __init__(
        self,
        api_base: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._timeouts = self._timeout.as_dict()
        self._transport = transport
        self._sender: httpx.AsyncBaseTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def sender(self) -> httpx.AsyncBaseTransport:
        """What sends the requests: a transport of this event loop (a pool belongs to the loop that
        made it; a new loop, in tests or stdio, gets a new one). Requests go to it directly, not
        through an httpx.AsyncClient: the client's layers (URL merging, cookies, hooks) were a tenth
        of a call's CPU, and its cookie jar, shared by every caller, is nothing GitLab's API needs."""
        loop = asyncio.get_running_loop()
        if self._sender is None or self._loop is not loop:
            self._sender = self._transport or for_environment(**POOL) or ViaClient(self._timeout)
            self._loop = loop
        return self._sender

    async def aclose(self) -> None:
        if self._sender is not None:
            await self._sender.aclose()
            self._sender = None

    async def request(
        self,
        method: str,
        path: str,
        creds: Credentials,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> httpx.Response:
        """One API call, retried when safe; raises a GitLabError naming `what` on failure.
        `files` sends a multipart/form-data body instead of JSON (uploads)."""
        for segment in path.split("?", 1)[0].split("/"):
            if climbs(segment):  # defence in depth: path_id() refuses these already
                raise UnsafePathSegment(unquote(segment))
        # GraphQL lives beside REST: <GitLab>/api/graphql (doc/api/graphql/_index.md).
        url = f"{self.api_base.removesuffix('/v4')}/graphql" if path == "/graphql" else f"{self.api_base}{path}"
        attempts = 1 + (self.max_retries if method in IDEMPOTENT else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = await self._send(
                    httpx.Request(
                        method,
                        url,
                        params=encode_params(params),
                        json=json,
                        files=files,
                        headers={**HEADERS, **creds.headers()},
                        extensions={"timeout": self._timeouts},
                    )
                )
            except httpx.TimeoutException as exc:
                if attempt < attempts:
                    await asyncio.sleep(self._delay(attempt, None))
                    continue
                raise GitLabUnavailable(
                    f"GitLab at {self.api_base} did not answer in time while getting {what}."
                ) from exc
            except httpx.TransportError as exc:
                if attempt < attempts:
                    await asyncio.sleep(self._delay(attempt, None))
                    continue
                raise GitLabUnavailable(
                    f"Could not connect to GitLab at {self.api_base} ({type(exc).__name__}); check GITLAB_API_URL."
                ) from exc
            if response.status_code < 400:
                return response
            wait = self._delay(attempt, response.headers.get("retry-after"))
            if response.status_code in RETRY_STATUSES and attempt < attempts and wait <= MAX_RETRY_WAIT:
                await asyncio.sleep(wait)
                continue
            raise http_error(response, what=what, retries=attempt - 1)
        raise AssertionError("unreachable")

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self.sender().handle_async_request(request)
        response.request = request
        try:
            await response.aread()  # the whole body, decoded (gzip) as httpx does
        finally:
            await response.aclose()
        return response

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        seconds = _retry_after_seconds(retry_after)
        if seconds is not None:
            return seconds
        return self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def http_error(response: httpx.Response, *, what: str, retries: int) -> GitLabHTTPError:
    """Map a GitLab error response to the error tree, with a message for the model."""
    status = response.status_code
    detail = _error_detail(response)
    if status == 401:
        return GitLabUnauthorized(
            "GitLab rejected the credentials (invalid, expired or revoked token). Sign in again or check GITLAB_TOKEN.",
            status,
        )
    if status == 403:
        scope = _missing_scope(response)
        if scope:
            return GitLabForbidden(f"The GitLab token lacks the '{scope}' scope needed for this ({what}).", status)
        return GitLabForbidden(f"You do not have permission for this on {what}{_suffix(detail)}", status)
    if status == 404:
        return GitLabNotFound(f"{what} not found or you have no access{_suffix(detail)}", status)
    if status == 429:
        after = response.headers.get("retry-after")
        hint = f" Try again in {after} s." if after else ""
        return GitLabRateLimited(f"GitLab is rate-limiting; retried {retries} times.{hint}", status)
    if status >= 500:
        return GitLabServerError(
            f"GitLab failed with HTTP {status} while handling {what}; retried {retries} times.", status
        )
    return GitLabRejected(f"GitLab refused the request for {what} (HTTP {status}){_suffix(detail)}", status)


def _suffix(detail: str) -> str:
    return f": {detail}" if detail else "."


def _error_detail(response: httpx.Response) -> str:
    """GitLab's own words: `message` (a string, list or field→errors map) or `error`."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    message = body.get("message", body.get("error_description", body.get("error", "")))
    if isinstance(message, dict):
        parts = []
        for field, errors in message.items():
            text = ", ".join(map(str, errors)) if isinstance(errors, list) else str(errors)
            parts.append(f"{field} {text}")
        message = "; ".join(parts)
    elif isinstance(message, list):
        message = "; ".join(map(str, message))
    return str(message)[:500]


def _missing_scope(response: httpx.Response) -> str | None:
    # GitLab answers 403 {"error":"insufficient_scope", "scope":"api ..."} (doc/api/rest/troubleshooting.md).
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("error") == "insufficient_scope":
        return str(body.get("scope") or "api").split()[0]
    return None


def gitlab_client() -> GitLabClient:
    """The process's client for the configured GitLab (tests may hand the tools another one here)."""
    return _configured_client()


@functools.cache
def _configured_client() -> GitLabClient:
    return GitLabClient(
        settings.GITLAB_API_BASE, timeout=settings.GITLAB_TIMEOUT, max_retries=settings.GITLAB_MAX_RETRIES
    )


@functools.cache
def _static_credentials() -> Credentials:
    return Credentials(settings.GITLAB_TOKEN)


CLIENT_SETTINGS = frozenset({"GITLAB_API_BASE", "GITLAB_TIMEOUT", "GITLAB_MAX_RETRIES", "GITLAB_TOKEN"})


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    """Forget the client and the static credentials when override_settings changes what made them
    (connected here, not in AppConfig.ready, so that only a process that calls GitLab imports this)."""
    if setting in CLIENT_SETTINGS:
        _configured_client.cache_clear()
        _static_credentials.cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="mcp_bridge.gitlab")


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
        # (single flight across processes) and try again; if that fails the connection has ended.
        from mcp_bridge.auth import Unauthorized, refreshed_gitlab_token
        from oauth_gateway.gitlab_oauth import GitLabOAuthError

        try:
            token = await sync_to_async(refreshed_gitlab_token, thread_sensitive=False)(caller)
        except Unauthorized as exc:
            raise GitLabUnauthorized(str(exc), 401) from None
        except GitLabOAuthError:
            # The connection stays (GitLab's sign-in is down, or this server's client credentials are
            # being changed): this call fails readably and a later one refreshes.
            raise GitLabUnavailable(
                "GitLab could not renew this connection's token just now; try again shortly."
            ) from None
        self.creds = Credentials(token, oauth=True)
        return await self.client.request(method, path, self.creds, **kwargs)


def gitlab() -> GitLab:
    return GitLab(gitlab_client(), current_credentials.get() or _static_credentials())


def _int_header(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _drop_none(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if data is None else {k: v for k, v in data.items() if v is not None}
