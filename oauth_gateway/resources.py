"""RFC 8707 resource indicators: this server is one audience under two URLs.

Claude.ai connectors use the URL the user typed (PUBLIC_URL), other clients PUBLIC_URL/mcp, and the
MCP SDKs send as `resource` what the protected-resource document they found names (RFC 9728 §3.3:
PUBLIC_URL at the root, PUBLIC_URL/mcp at the /mcp suffix). Both URLs serve the same tools to the same
users, so either is accepted at /authorize, /token and /device_authorization, with or without a
trailing slash (the TypeScript SDK sends `new URL(resource).href`, which adds one to a bare origin),
and every token stores one canonical audience, MCP_RESOURCE_URL: a token for either URL works on
both, and tokens minted before the root was a resource keep working.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_resource(uri: str) -> str | None:
    """MCP_RESOURCE_URL when `uri` names this server, None for any other resource (RFC 8707 §2:
    the caller answers invalid_target)."""
    try:
        parts = urlsplit(uri)
        key = _key(parts)
    except ValueError:  # a port that is not a number
        return None
    if parts.query or parts.fragment or parts.username is not None:
        return None
    ours = (_key(urlsplit(settings.PUBLIC_URL)), _key(urlsplit(settings.MCP_RESOURCE_URL)))
    return settings.MCP_RESOURCE_URL if key in ours else None


def _key(parts: SplitResult) -> tuple[str, str, int | None, str]:
    """Scheme, host and port compared as URLs compare them (case, default port), path without a
    trailing slash."""
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or DEFAULT_PORTS.get(scheme), parts.path.rstrip("/")
