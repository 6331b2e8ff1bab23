"""Which redirect URIs a client may register (RFC 8252 §7, RFC 9700 §4.1.3)."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host

from config.environment import is_loopback


def redirect_uri_problem(uri: str) -> str | None:
    """What is wrong with `uri` as a redirect URI, or None when it is acceptable:
    https anywhere; http only on a loopback address (any port, RFC 8252 §7.3); a custom scheme only
    when the operator allowed it (OAUTH_REDIRECT_SCHEMES); never a fragment, whitespace or a control
    character."""
    # Before parsing: urlsplit drops tabs and newlines silently, and the toolkit stores a client's
    # redirect URIs space-separated, so "https://ok.example/cb http://evil.example/cb" would be two.
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in uri):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "is not a valid URI"
    if parts.fragment:
        return "must not contain a fragment"
    allowed = settings.OAUTH_ALLOWED_REDIRECT_HOSTS
    if allowed and not validate_host(parts.hostname or "", allowed):
        return f"is on a host this server does not allow (OAUTH_ALLOWED_REDIRECT_HOSTS: {', '.join(allowed)})"
    if parts.scheme == "https":
        return None if parts.hostname else "has no host"
    if parts.scheme == "http":
        return None if is_loopback(parts.hostname or "") else "uses http on a non-loopback host; use https"
    if parts.scheme and parts.scheme in settings.OAUTH_REDIRECT_SCHEMES:
        return None
    if not parts.scheme:
        return "has no scheme"
    return f"uses the scheme {parts.scheme!r}, which this server does not allow (its OAUTH_REDIRECT_SCHEMES)"
