"""Who may reach the MCP endpoint at all, before any sign-in: the Host it names (every mode) and, in
static-token mode, the MCP_AUTH_TOKEN bearer (RFC 6750).

Static-token mode acts with the server's own GITLAB_TOKEN for whoever calls it, so off loopback it
wants a bearer of its own (oauth_gateway.checks refuses to start without one), compared in constant
time. The SDK's TransportSecuritySettings checks Host too, but only after our authentication and
against Django's ALLOWED_HOSTS, which always holds the loopback names (for health checks): on a
server listening on every interface `Host: localhost` passed. Here the Host must be one the server
is published under (settings.MCP_ALLOWED_HOSTS), or the answer is 421 (RFC 9110 §15.5.20).
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host


async def admit(scope: dict[str, Any], send: Any) -> bool:
    """True when the request may go on; otherwise it has been answered (421 or 401)."""
    if not host_allowed(scope):
        await _answer(send, 421, [], b"Misdirected request: this server is not published under that host name.\n")
        return False
    if settings.OAUTH_ENABLED or static_bearer_ok(scope):
        return True
    sent = bool(_header(scope, b"authorization"))
    challenge = b'Bearer error="invalid_token", error_description="Unknown token."' if sent else b"Bearer"
    body = b"Send the server's MCP_AUTH_TOKEN as 'Authorization: Bearer <token>'.\n"
    await _answer(send, 401, [(b"www-authenticate", challenge)], body)
    return False


def host_allowed(scope: dict[str, Any]) -> bool:
    domain, _ = split_domain_port(_header(scope, b"host"))
    return bool(domain) and validate_host(domain, settings.MCP_ALLOWED_HOSTS)


def static_bearer_ok(scope: dict[str, Any]) -> bool:
    """No MCP_AUTH_TOKEN (loopback only): anyone on this machine. Otherwise one of its tokens, each
    compared in full (hmac.compare_digest), so the time taken does not tell how much matched."""
    tokens = settings.MCP_AUTH_TOKENS
    if not tokens:
        return True
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    presented = token.strip().encode() if scheme.lower() == "bearer" else b""
    matches = [hmac.compare_digest(presented, known.encode()) for known in tokens]
    return bool(presented) and any(matches)


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
