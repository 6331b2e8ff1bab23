"""The GitLab REST client used by every tool: one pooled httpx client per process, retries, errors.

Errors form one small tree, so that tools never catch anything themselves and the server turns any
of them into a readable tool error in one place::

    GitLabError                  message is safe to show to the model (no token, no stack trace)
    ├── GitLabRefused            not sent: the request is not one the tool may make
    │   ├── UnsafePathSegment    a value would be an empty, '.' or '..' URL path segment
    │   └── RouteNotAllowed      not among the tool's declared routes, or a write in read-only mode
    ├── GitLabUnavailable        GitLab could not be reached or did not answer in time
    ├── GraphQLError             HTTP 200 with GraphQL `errors[]` (defined in mcp_bridge.graphql)
    └── GitLabHTTPError          GitLab answered with a 4xx/5xx status
        ├── GitLabUnauthorized   401: the token is invalid, expired or revoked
        ├── GitLabForbidden      403: no permission, or a token scope is missing
        ├── GitLabNotFound       404: missing, or private and hidden from this user
        ├── GitLabRejected       400/405/409/412/422: GitLab refused the request as sent
        ├── GitLabRateLimited    429, after the allowed retries
        └── GitLabServerError    5xx, after the allowed retries
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import httpx

from mcp_bridge.transport import for_environment

IDEMPOTENT = frozenset({"GET", "HEAD"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
POOL = {"max_connections": 100, "max_keepalive_connections": 20}
# As httpx's client sends them (no brotli or zstd: neither decoder is installed).
HEADERS = {"User-Agent": "gitlab-mcp", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
MAX_RETRY_WAIT = 10.0  # seconds; a longer Retry-After is reported instead of waited for


class GitLabError(Exception):
    """A failed GitLab call, with a message written for the model."""


class GitLabRefused(GitLabError):
    """Refused before anything was sent; `detail` is what the audit log keeps (never a secret)."""

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.detail = detail


class UnsafePathSegment(GitLabRefused):
    """`value` would not stay one URL path segment: it is empty, '.' or '..', or holds such a part
    between slashes, even percent-encoded. Clients and proxies remove dot segments (RFC 3986 §5.2.4),
    so `DELETE /projects/alice%2Fnotes/labels/..` would delete the project."""

    why = (
        "a name that is empty, '.' or '..' (even percent-encoded, or between slashes) would change which "
        "GitLab API path is called. Nothing was sent to GitLab."
    )

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"{self._shown()} cannot be sent in a GitLab URL path: {self.why}", refused="unsafe path")

    def naming(self, arguments: list[str]) -> str:
        """The refusal as the model should read it: which of its arguments held the value."""
        self.detail["arguments"] = arguments
        if not arguments:
            return str(self)
        names = " and ".join(f"'{name}'" for name in arguments)
        return f"Argument{'s' if len(arguments) > 1 else ''} {names} may not be {self._shown()}: {self.why}"

    def _shown(self) -> str:
        return repr(self.value if len(self.value) <= 80 else self.value[:80] + "…")


class RouteNotAllowed(GitLabRefused):
    pass


class GitLabUnavailable(GitLabError):
    pass


class GitLabHTTPError(GitLabError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class GitLabUnauthorized(GitLabHTTPError):
    pass


class GitLabForbidden(GitLabHTTPError):
    pass


class GitLabNotFound(GitLabHTTPError):
    pass


class GitLabRejected(GitLabHTTPError):
    pass


class GitLabRateLimited(GitLabHTTPError):
    pass


class GitLabServerError(GitLabHTTPError):
    pass


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


def path_id(value: str | int) -> str:
    """A project/group id or a full path, URL-encoded as GitLab wants it in a path segment.

    Raises UnsafePathSegment for a value that is empty or would climb out of its segment."""
    text = str(value).strip()
    if not text or climbs(text):
        raise UnsafePathSegment(str(value))
    return quote(text, safe="")


def path_of(value: str) -> str:
    """A path of several segments (a file inside an artifacts archive), each URL-encoded, slashes kept.

    Raises UnsafePathSegment when it is empty or any part is '.' or '..'."""
    text = value.strip().strip("/")
    if not text or climbs(text) or "" in text.split("/"):
        raise UnsafePathSegment(value)
    return quote(text, safe="/")


def climbs(text: str) -> bool:
    """Whether `text`, percent-decoded until it no longer changes, is or holds a '.' or '..' part
    between slashes (or backslashes, which some servers read as slashes)."""
    while (decoded := unquote(text)) != text:
        text = decoded
    return any(part in (".", "..") for part in re.split(r"[/\\]", text))


def encode_params(params: dict[str, Any] | None) -> list[tuple[str, str | int | float | bool | None]]:
    """Query parameters the GitLab way: lists as `key[]=a&key[]=b`, booleans as true/false."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((f"{key}[]", _scalar(v)) for v in value)
        else:
            pairs.append((key, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ViaClient(httpx.AsyncBaseTransport):
    """httpx's own client as a transport, for when the environment names a proxy (HTTP_PROXY,
    HTTPS_PROXY, ALL_PROXY, NO_PROXY), which it honours."""

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
