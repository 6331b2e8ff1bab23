"""CORS for the MCP endpoint (/ and /mcp): browser-based MCP clients call it from their own origin.

The browser asks first with a preflight (OPTIONS, answered here without authentication), then shows
the page an answer, a 401 included, only when it names the page's origin. We echo the request's
Origin (with `Vary: Origin`) rather than send `*`: tokens travel in the Authorization header, never
in cookies, so either would do in OAuth mode, but echoing lets one rule serve both modes. In OAuth
mode every origin is named: nothing happens without a valid bearer token, which a DNS-rebinding
page cannot attach. In static-token mode the server acts with GITLAB_TOKEN for whoever reaches it,
so only the origins of the DNS-rebinding guard are named (PUBLIC_URL's, ALLOWED_HOSTS',
ALLOWED_ORIGINS), and a preflight from any other is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.conf import settings

SERVED_METHODS = ("GET", "POST", "DELETE", "OPTIONS")
ALLOW_HEADERS = b"Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID"
EXPOSE_HEADERS = b"WWW-Authenticate, Mcp-Session-Id"
Headers = list[tuple[bytes, bytes]]


def request_origin(scope: dict[str, Any]) -> str | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            return value.decode("latin-1")
    return None


def origin_allowed(origin: str, allowed: Collection[str]) -> bool:
    """Whether answers may name `origin`; `allowed` are the guard's origins (a `:*` port wildcard
    as in the SDK's TransportSecuritySettings)."""
    if origin == "null":  # sandboxed frames and file pages: never named
        return False
    if settings.OAUTH_ENABLED or origin in allowed:
        return True
    return any(a.endswith(":*") and origin.startswith(a[:-1]) and origin[len(a) - 1 :].isdigit() for a in allowed)


def cors_headers(origin: str) -> Headers:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"vary", b"Origin"),
        (b"access-control-expose-headers", EXPOSE_HEADERS),
    ]


def with_cors(send: Any, origin: str) -> Any:
    """`send`, with the CORS headers added to the response's start."""
    extra = cors_headers(origin)

    async def send_with_cors(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return send_with_cors


async def preflight(scope: dict[str, Any], send: Any, allowed: Collection[str]) -> None:
    """Answer OPTIONS: 204 naming what we serve, 405 for a method we do not serve, 403 for an
    origin static-token mode does not allow. Touches no database and runs no MCP code."""
    origin = request_origin(scope)
    method = dict(scope["headers"]).get(b"access-control-request-method", b"").decode("latin-1").upper()
    headers: Headers = [(b"allow", ", ".join(SERVED_METHODS).encode())]
    if method and method not in SERVED_METHODS:
        await _answer(send, 405, headers, f"{method} is not served here.")
        return
    if origin is not None and not origin_allowed(origin, allowed):
        await _answer(send, 403, headers, "This origin may not call this server.")
        return
    if origin is not None:
        headers += cors_headers(origin)
        headers += [
            (b"access-control-allow-methods", headers[0][1]),
            (b"access-control-allow-headers", ALLOW_HEADERS),
            (b"access-control-max-age", b"86400"),
        ]
    await _answer(send, 204, headers)


async def _answer(send: Any, status: int, headers: Headers, text: str = "") -> None:
    body = text.encode()
    if body:  # a 204 has neither body nor length (RFC 9110 §8.6)
        headers = [*headers, (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
