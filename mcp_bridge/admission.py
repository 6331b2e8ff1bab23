"""Who may call the MCP endpoint (/ and /mcp), decided before any MCP code runs: the Host it names,
the Origin a browser sends (CORS), and the bearer token (static MCP_AUTH_TOKEN here; OAuth tokens
are checked by mcp_bridge.auth, whose refusal is answered here with the RFC 9728 challenge).

Host. Static-token mode acts with the server's own GITLAB_TOKEN for whoever calls it, so off
loopback it wants a bearer of its own (oauth_gateway.checks refuses to start without one), compared
in constant time. The SDK's TransportSecuritySettings checks Host too, but only after our
authentication and against Django's ALLOWED_HOSTS, which always holds the loopback names (for health
checks): on a server listening on every interface `Host: localhost` passed. Here the Host must be one
the server is published under (settings.MCP_ALLOWED_HOSTS), or the answer is 421 (RFC 9110 §15.5.20).

CORS. Browser-based MCP clients call from their own origin. The browser asks first with a preflight
(OPTIONS, answered here without authentication), then shows the page an answer, a 401 included, only
when it names the page's origin. We echo the request's Origin (with `Vary: Origin`) rather than send
`*`: tokens travel in the Authorization header, never in cookies, so either would do in OAuth mode,
but echoing lets one rule serve both modes. In OAuth mode every origin is named: nothing happens
without a valid bearer token, which a DNS-rebinding page cannot attach. In static-token mode the
server acts with GITLAB_TOKEN for whoever reaches it, so only the origins of the DNS-rebinding guard
are named (PUBLIC_URL's, ALLOWED_HOSTS', ALLOWED_ORIGINS), and a preflight from any other is refused.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from mcp.server.transport_security import TransportSecuritySettings
from oauth2_provider.www_authenticate import build_bearer_challenge

SERVED_METHODS = ("GET", "POST", "DELETE", "OPTIONS")
ALLOW_HEADERS = b"Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID"
EXPOSE_HEADERS = b"WWW-Authenticate, Mcp-Session-Id"
Headers = list[tuple[bytes, bytes]]


def transport_security() -> TransportSecuritySettings:
    """Host and Origin checks (DNS-rebinding guard) built from the configured hosts."""
    public = urlsplit(settings.PUBLIC_URL)
    hosts = {public.netloc}
    origins = {f"{public.scheme}://{public.netloc}"}
    for host in settings.ALLOWED_HOSTS:
        hosts |= {host, f"{host}:*"}
        origins |= {f"http://{host}", f"http://{host}:*", f"https://{host}", f"https://{host}:*"}
    origins |= set(settings.ALLOWED_ORIGINS)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(hosts), allowed_origins=sorted(origins)
    )


# Host and static token


async def admit(scope: dict[str, Any], send: Any) -> bool:
    """True when the request may go on; otherwise it has been answered (421 or 401)."""
    if not host_allowed(scope):
        await _answer(send, 421, [], "Misdirected request: this server is not published under that host name.\n")
        return False
    if settings.OAUTH_ENABLED or static_bearer_ok(scope):
        return True
    sent = bool(_header(scope, b"authorization"))
    challenge = b'Bearer error="invalid_token", error_description="Unknown token."' if sent else b"Bearer"
    body = "Send the server's MCP_AUTH_TOKEN as 'Authorization: Bearer <token>'.\n"
    await _answer(send, 401, [(b"www-authenticate", challenge)], body)
    return False


def host_allowed(scope: dict[str, Any]) -> bool:
    domain, _ = split_domain_port(_header(scope, b"host") or "")
    return bool(domain) and validate_host(domain, settings.MCP_ALLOWED_HOSTS)


def static_bearer_ok(scope: dict[str, Any]) -> bool:
    """No MCP_AUTH_TOKEN (loopback only): anyone on this machine. Otherwise one of its tokens, each
    compared in full (hmac.compare_digest), so the time taken does not tell how much matched."""
    tokens = settings.MCP_AUTH_TOKENS
    if not tokens:
        return True
    scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
    presented = token.strip().encode() if scheme.lower() == "bearer" else b""
    matches = [hmac.compare_digest(presented, known.encode()) for known in tokens]
    return bool(presented) and any(matches)


async def unauthorized(send: Any, description: str | None, path: str) -> None:
    """401 with `WWW-Authenticate: Bearer` naming the protected-resource metadata of the URL asked
    (RFC 9728 §5.1; each document's `resource` is that URL, §3.3): the root's for /, /mcp's for /mcp.
    `error="invalid_token"` only when a token was sent (RFC 6750 §3.1)."""
    suffix = settings.MCP_PATH if path.startswith(settings.MCP_PATH) else ""
    metadata = f"{settings.PUBLIC_URL}/.well-known/oauth-protected-resource{suffix}"
    body: dict[str, str] = {"error": "unauthorized", "error_description": "Sign in to use this server."}
    if description is not None:
        body = {"error": "invalid_token", "error_description": description}
    # The toolkit's builder quotes each value (RFC 7230 quoted-string); it reads no request here.
    challenge = build_bearer_challenge(None, body if description is not None else None, resource_metadata_url=metadata)
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"www-authenticate", challenge.encode()),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


# CORS


def request_origin(scope: dict[str, Any]) -> str | None:
    return _header(scope, b"origin")


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


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _answer(send: Any, status: int, headers: Headers, text: str = "") -> None:
    body = text.encode()
    if body:  # a 204 has neither body nor length (RFC 9110 §8.6)
        headers = [*headers, (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
