"""The OAuth data of the server (DESIGN.md §4.3).

django-oauth-toolkit's swappable models are swapped into this app from the first migration, since a
swap cannot be done later without hand-written data migrations. They start as the toolkit's own;
the OAuth issue adds the GitLab connection they point at.
"""

from __future__ import annotations

from oauth2_provider import models as dot


class Application(dot.AbstractApplication):
    """A registered MCP client (dynamic registration, CIMD or made by an admin)."""

    objects = dot.ApplicationManager()

    def natural_key(self) -> tuple[str]:
        return (self.client_id,)


class Grant(dot.AbstractGrant):
    """An authorization code, waiting to be exchanged at /token."""


class AccessToken(dot.AbstractAccessToken):
    """An MCP access token (stored hashed; never a GitLab token)."""


class RefreshToken(dot.AbstractRefreshToken):
    """An MCP refresh token; rotated on use, its family revoked on reuse."""


class IDToken(dot.AbstractIDToken):
    """Unused (no OpenID Connect), swapped so the toolkit's relations stay in this app."""


class DeviceGrant(dot.AbstractDeviceGrant):
    """An RFC 8628 device authorization, should the device endpoint be exposed."""
