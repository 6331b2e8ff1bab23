"""How many clients one address may register (RFC 7591 /register and CIMD alike), sized for teams.

The limit, OAUTH_REGISTRATIONS_PER_HOUR, counts per (client address, redirect host): a team behind
one egress address (an office NAT, or Claude.ai's few shared egress addresses, whose registrations
all name claude.ai) meets it only when its members register that many times in an hour, and what
one address does never counts against another. Across all its redirect hosts an address may
register ten times the limit: a flood naming a new host each time still ends, and the table grows by
at most that much per address and hour.

Why not "an identical re-registration from the same address is free": native clients register a
loopback redirect URI with a new port each run (RFC 8252 §7.3), so theirs are rarely identical, and
every free one still adds a row, so one address could add rows without end.

The redirect host of a registration is its first redirect URI's (none for a device-grant client);
for a Client ID Metadata Document it is the document's host, which is also limited across
addresses (one client per document URL: a host minting many is suspect).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from oauth_gateway.models import Application

ADDRESS_FACTOR = 10  # an address's registrations across all redirect hosts: ten times the limit


def registration_host(*, redirect_uris: list[str] | str, client_id: str = "", cimd: bool = False) -> str:
    """The host a registration counts under."""
    if cimd:
        return (urlsplit(client_id).hostname or "").lower()
    uris = redirect_uris.split() if isinstance(redirect_uris, str) else redirect_uris
    try:
        return (urlsplit(uris[0]).hostname or "").lower() if uris else ""
    except ValueError:
        return ""


def registrations_exhausted(*, ip: str | None, host: str, cimd: bool = False) -> bool:
    """Whether `ip` used up this hour's registrations for `host` (or in all), or, for a CIMD client,
    whether the document host did."""
    since = timezone.now() - timedelta(hours=1)
    limit = settings.OAUTH_REGISTRATIONS_PER_HOUR
    recent = Application.objects.filter(created__gte=since)
    if ip:
        # At most ADDRESS_FACTOR × limit rows, or we stop right here.
        rows = recent.filter(registration_ip=ip).values_list("client_id", "redirect_uris", "registration_source")
        mine = list(rows[: limit * ADDRESS_FACTOR])
        if len(mine) >= limit * ADDRESS_FACTOR:
            return True
        cimd_source = Application.RegistrationSource.CIMD
        on_host = [
            row
            for row in mine
            if registration_host(redirect_uris=row[1], client_id=row[0], cimd=row[2] == cimd_source) == host
        ]
        if len(on_host) >= limit:
            return True
    if cimd and host:
        # The document host's clients: client ids are https URLs on that host (with or without a port).
        documents = recent.filter(registration_source=Application.RegistrationSource.CIMD)
        return documents.filter(client_id__startswith=f"https://{host}").count() >= limit
    return False
