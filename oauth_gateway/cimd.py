"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) under /register's rules.

django-oauth-toolkit fetches the document the first time an https client_id is seen and stores the
client. Left alone it would skip what /register enforces, so with OAUTH_CIMD_ENABLED:
- `RegistrationPolicy` runs before any fetch: the optional host allowlist (OAUTH_CIMD_ALLOWED_HOSTS)
  and the registration rate limit (oauth_gateway.services.clients: per client IP and document
  host, and per document host);
- `CheckedFetcher` applies the redirect URI rules of `oauth_gateway.redirects` to the document;
- `record_first_sight` stamps the registering IP on the new client and audits the registration.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host
from oauth2_provider.cimd import CIMDError, SafeMetadataFetcher

from oauth_gateway.models import Application, AuditEvent
from oauth_gateway.redirects import redirect_uri_problem
from oauth_gateway.services.audit import audit
from oauth_gateway.services.clients import registrations_exhausted


class RegistrationPolicy:
    """DOT's CIMD permission hook, asked before the document is fetched."""

    def has_permission(self, request: Any, client_id: str) -> bool:
        host = (urlsplit(client_id).hostname or "").lower()
        allowed = settings.OAUTH_CIMD_ALLOWED_HOSTS
        if not host or (allowed and not validate_host(host, allowed)):
            return False
        ip = (getattr(request, "headers", None) or {}).get("REMOTE_ADDR")
        return not registrations_exhausted(ip=ip, host=host, cimd=True)


class CheckedFetcher(SafeMetadataFetcher):
    """DOT's SSRF-hardened fetcher, plus the redirect URI rules every registered client meets."""

    def fetch(self, client_id: str) -> tuple[dict[str, Any], int]:
        metadata, max_age = super().fetch(client_id)
        check_document(metadata)
        return metadata, max_age


def check_document(metadata: dict[str, Any]) -> None:
    """Raise CIMDError (the client is then unknown) for a redirect URI /register would refuse."""
    uris = metadata.get("redirect_uris")
    for uri in uris if isinstance(uris, list) else []:
        problem = redirect_uri_problem(uri) if isinstance(uri, str) else "must be a string"
        if problem:
            raise CIMDError(f"redirect URI {uri!r} {problem}")


def record_first_sight(client: Application, ip: str | None) -> None:
    """Audit a CIMD client the first time it is used, as /register audits its clients."""
    if client.registration_source != Application.RegistrationSource.CIMD or client.registration_ip or not ip:
        return
    if Application.objects.filter(pk=client.pk, registration_ip__isnull=True).update(registration_ip=ip):
        client.registration_ip = ip
        audit(
            AuditEvent.Kind.CLIENT_REGISTERED, application_id=client.pk, ip=ip, client_name=client.name, source="cimd"
        )
