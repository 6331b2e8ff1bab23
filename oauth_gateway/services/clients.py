"""Clients (DOT's Application): the registration limit, disabling, enabling and verifying them (the
admin), and RFC 7592 self-management; each change audited, every connection ended through the one
revoke path (services.connections.connection_revoke).

The registration limit, OAUTH_REGISTRATIONS_PER_HOUR (RFC 7591 /register and CIMD alike), is sized
for teams: it counts per (client address, redirect host), so a team behind one egress address (an
office NAT, or Claude.ai's few shared egress addresses, whose registrations all name claude.ai)
meets it only when its members register that many times in an hour, and what one address does
never counts against another. Across all its redirect hosts an address may register ten times the
limit: a flood naming a new host each time still ends, and the table grows by at most that much per
address and hour.

Why not "an identical re-registration from the same address is free": native clients register a
loopback redirect URI with a new port each run (RFC 8252 §7.3), so theirs are rarely identical, and
every free one still adds a row, so one address could add rows without end.

The redirect host of a registration is its first redirect URI's (none for a device-grant client);
for a Client ID Metadata Document it is the document's host, which is also limited across
addresses (one client per document URL: a host minting many is suspect).

RFC 7592: a client that deletes its registration (§2.3) is disabled, not deleted: its connections
end through the one revoke path (GitLab forgets their tokens), its audit rows keep pointing at it,
and its registration access token stops working. A client that renames itself (§2.2) has its live
connections ended too, so each user meets the new name on the consent page before it acts for them
again.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from oauth_gateway.models import AccessToken, Application, AuditEvent
from oauth_gateway.services.audit import audit
from oauth_gateway.services.connections import application_connections_end

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


def application_disable(*, application: Application, by: AuditEvent.Actor, actor_id: int | None = None) -> int:
    """Disable a client: /authorize refuses it from now on and its connections end; returns how many
    ended. Not one transaction: each connection ends in its own (GitLab is told after each commit), the
    flag is set first so no new connection slips in, and running it again finishes an interrupted run."""
    now = timezone.now()
    changed = Application.objects.filter(pk=application.pk, disabled__isnull=True).update(disabled=now)
    if changed:
        application.disabled = now
    ended = application_connections_end(application=application, by=by, actor_id=actor_id)
    if changed or ended:
        audit(AuditEvent.Kind.CLIENT_DISABLED, application_id=application.pk, by=by, actor_id=actor_id, sessions=ended)
    return ended


def application_enable(*, application: Application, by: AuditEvent.Actor, actor_id: int | None = None) -> bool:
    """Allow sign-ins with a disabled client again (its ended connections stay ended)."""
    changed = Application.objects.filter(pk=application.pk, disabled__isnull=False).update(disabled=None)
    application.disabled = None
    if changed:
        audit(AuditEvent.Kind.CLIENT_ENABLED, application_id=application.pk, by=by, actor_id=actor_id)
    return bool(changed)


def application_verify(
    *, application: Application, verified: bool, by: AuditEvent.Actor, actor_id: int | None = None
) -> bool:
    """Vouch for a self-registered client (consent stops calling it unverified), or take that back."""
    now = timezone.now() if verified else None
    changed = Application.objects.filter(pk=application.pk, verified__isnull=verified).update(verified=now)
    application.verified = now
    if changed:
        kind = AuditEvent.Kind.CLIENT_VERIFIED if verified else AuditEvent.Kind.CLIENT_UNVERIFIED
        audit(kind, application_id=application.pk, by=by, actor_id=actor_id, client_name=application.name)
    return bool(changed)


def application_unregister(*, application: Application, ip: str | None) -> int:
    """The client deleted its registration; returns how many of its connections ended."""
    ended = application_disable(application=application, by=AuditEvent.Actor.RFC7592_DELETE)
    AccessToken.objects.filter(application=application, scope=oauth2_settings.DCR_REGISTRATION_SCOPE).delete()
    audit(
        AuditEvent.Kind.CLIENT_UNREGISTERED,
        application_id=application.pk,
        ip=ip,
        client_name=application.name,
        sessions=ended,
    )
    return ended


def application_renamed(*, application: Application, old_name: str, ip: str | None) -> int:
    """The client changed its name (already saved): record both names and end its live connections;
    returns how many ended."""
    ended = application_connections_end(application=application, by=AuditEvent.Actor.RFC7592_RENAME)
    audit(
        AuditEvent.Kind.CLIENT_RENAMED,
        application_id=application.pk,
        ip=ip,
        old_name=old_name,
        client_name=application.name,
        sessions=ended,
    )
    return ended
