"""Who the client is behind a reverse proxy: X-Forwarded-For and -Proto, from TRUSTED_PROXIES only.

The ASGI scope is rewritten once, before routing, so Django (REMOTE_ADDR, request.is_secure()), the
MCP endpoint's audit rows and the access log all see the same client. Host headers are never used:
every URL the server generates comes from PUBLIC_URL.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def forwarded_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope as the client sent it, when the peer is a trusted proxy; otherwise unchanged.

    The client is the rightmost X-Forwarded-For address that is not itself a trusted proxy: entries
    left of it were written by the client and prove nothing.
    """
    peer = scope.get("client")
    if not peer or not trusted(peer[0]):
        return scope
    forwarded_for: list[str] = []
    proto = ""
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            forwarded_for += [a.strip() for a in value.decode("latin-1").split(",") if a.strip()]
        elif name == b"x-forwarded-proto":
            proto = value.decode("latin-1").split(",")[-1].strip().lower()
    client = peer[0]
    for address in reversed(forwarded_for):
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            break  # garbage: keep the last address a trusted proxy vouched for
        client = address
        if not trusted(address):
            break
    scheme = proto if proto in ("http", "https") else scope.get("scheme", "http")
    return {**scope, "client": (client, 0), "scheme": scheme}
