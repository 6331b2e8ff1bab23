"""RFC 7592 client self-management, ending in the same services the admin uses.

A client that deletes its registration (§2.3) is disabled, not deleted: its connections end through the
one revoke path (GitLab forgets their tokens), its audit rows keep pointing at it, and its
registration access token stops working. A client that renames itself (§2.2) has its live connections
ended too, so each user meets the new name on the consent page before it acts for them again.
"""

from __future__ import annotations

from oauth2_provider.settings import oauth2_settings

from oauth_gateway.models import AccessToken, Application, AuditEvent
from oauth_gateway.services.audit import audit
from oauth_gateway.services.connections import application_connections_end, application_disable


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
