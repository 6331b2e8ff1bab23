"""django-oauth-toolkit's validator, taught about sessions (GitLab connections).

The consent view passes the new connection's id in the authorization credentials; from there it is
written on the grant, then on each access and refresh token minted from that grant or from a refresh
token of the same family. A refresh token reused after rotation ends its whole session.
"""

from __future__ import annotations

import hashlib
from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from oauth_gateway.cimd import record_first_sight
from oauth_gateway.models import Grant, RefreshToken


class Validator(OAuth2Validator):
    def _load_application(self, client_id: str, request: Any) -> Any:
        client = super()._load_application(client_id, request)
        if client is not None and client.registration_source == "cimd":
            record_first_sight(client, (request.headers or {}).get("REMOTE_ADDR"))
        return client

    def _create_authorization_code(self, request: Any, code: Any, expires: Any = None) -> Grant:
        grant: Grant = super()._create_authorization_code(request, code, expires)
        grant.connection_id = getattr(request, "gitlab_connection_id", None)
        grant.save(update_fields=["connection"])
        return grant

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        if client.disabled or not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        grant = Grant.objects.filter(code=code, application=client).select_related("connection").first()
        if grant is None or grant.connection is None or grant.connection.revoked:
            return False  # a code of an ended session is worthless
        request.gitlab_connection_id = grant.connection_id
        return True

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        checksum = hashlib.sha256(refresh_token.encode()).hexdigest()
        known = RefreshToken.objects.filter(token_checksum=checksum).select_related("connection").first()
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if known is None or known.connection is None:
            return False
        if not valid:
            if known.revoked is not None and known.connection.revoked is None:
                _end_reused_session(known)
            return False
        if known.connection.revoked or client.disabled:
            return False
        request.gitlab_connection_id = known.connection_id
        return True

    def _create_access_token(self, expires: Any, request: Any, token: Any, source_refresh_token: Any = None) -> Any:
        access = super()._create_access_token(expires, request, token, source_refresh_token)
        if getattr(request, "gitlab_connection_id", None):
            access.connection_id = request.gitlab_connection_id
            access.save(update_fields=["connection"])
        return access

    def _create_refresh_token(
        self, request: Any, refresh_token_code: Any, access_token: Any, previous_refresh_token: Any
    ) -> Any:
        refresh = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        if getattr(request, "gitlab_connection_id", None):
            refresh.connection_id = request.gitlab_connection_id
            refresh.save(update_fields=["connection"])
        return refresh


def _end_reused_session(token: RefreshToken) -> None:
    """RFC 9700 §4.14.2: a rotated refresh token used again means it leaked; end the session."""
    from oauth_gateway.services.audit import audit
    from oauth_gateway.services.connections import connection_revoke

    assert token.connection is not None
    audit(
        "refresh.reuse_detected",
        outcome="denied",
        user_id=token.user_id,
        application_id=token.application_id,
        connection_id=token.connection_id,
    )
    connection_revoke(connection=token.connection, by="refresh_reuse")
