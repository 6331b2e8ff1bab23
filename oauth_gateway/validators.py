"""django-oauth-toolkit's validator, taught about connections (GitLabConnection) and hashed codes.

The consent view passes the new connection's id in the authorization credentials; from there it is
written on the grant, then on each access and refresh token minted from that grant or from a refresh
token of the same family. A refresh token reused after rotation ends its whole connection, and so
does an authorization code used twice. Passwords are never checked (there is no password grant).

Authorization codes are stored hashed (RFC 6819 §5.1.4.1.3: no cleartext credentials at rest): the
grant table's `code` column holds the SHA-256 of each code, never the code the client received.
The toolkit looks grants up by code in several validator methods; `HashedCodeValidator` gives each
the digest of the code presented, so a copy of the database yields no code that could be redeemed.

RFC 8707 resource indicators (`canonical_resource`, also asked by /authorize and the device flow):
this server is one audience under two URLs. Claude.ai connectors use the URL the user typed
(PUBLIC_URL), other clients PUBLIC_URL/mcp, and the MCP SDKs send as `resource` what the
protected-resource document they found names (RFC 9728 §3.3: PUBLIC_URL at the root, PUBLIC_URL/mcp
at the /mcp suffix). Both URLs serve the same tools to the same users, so either is accepted at
/authorize, /token and /device_authorization, with or without a trailing slash (the TypeScript SDK
sends `new URL(resource).href`, which adds one to a bare origin), and every token stores one
canonical audience, MCP_RESOURCE_URL: a token for either URL works on both, and tokens minted before
the root was a resource keep working.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils import timezone
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from oauth_gateway.cimd import record_first_sight
from oauth_gateway.gitlab_oauth import DEVICE_GRANT
from oauth_gateway.models import Application, AuditEvent, Grant, RefreshToken
from oauth_gateway.services.headless import HEADLESS_REDIRECT

DEFAULT_PORTS = {"http": 80, "https": 443}


def code_digest(code: str) -> str:
    """What the grant table holds for `code`."""
    return hashlib.sha256(code.encode()).hexdigest()


class HashedCodeValidator(OAuth2Validator):
    """The toolkit's validator with every grant lookup by code made by the code's digest."""

    def _create_authorization_code(self, request: Any, code: Any, expires: Any = None) -> Any:
        # A copy: oauthlib sends `code` itself to the client afterwards.
        return super()._create_authorization_code(request, {**code, "code": code_digest(code["code"])}, expires)

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        return bool(super().validate_code(client_id, code_digest(code), client, request, *args, **kwargs))

    def confirm_redirect_uri(
        self, client_id: str, code: str, redirect_uri: str, client: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return bool(super().confirm_redirect_uri(client_id, code_digest(code), redirect_uri, client, *args, **kwargs))

    def invalidate_authorization_code(self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any) -> None:
        super().invalidate_authorization_code(client_id, code_digest(code), request, *args, **kwargs)

    def get_code_challenge(self, code: str, request: Any) -> Any:
        return super().get_code_challenge(code_digest(code), request)

    def get_code_challenge_method(self, code: str, request: Any) -> Any:
        return super().get_code_challenge_method(code_digest(code), request)

    def get_authorization_code_scopes(self, client_id: str, code: str, redirect_uri: str, request: Any) -> Any:
        return super().get_authorization_code_scopes(client_id, code_digest(code), redirect_uri, request)

    def get_authorization_code_nonce(self, client_id: str, code: str, redirect_uri: str, request: Any) -> Any:
        return super().get_authorization_code_nonce(client_id, code_digest(code), redirect_uri, request)

    def _check_and_set_request_resource(self, request: Any) -> None:
        # The toolkit reads the grant's RFC 8707 resource by `request.code` here.
        code = request.code
        request.code = code_digest(code) if code else code
        try:
            super()._check_and_set_request_resource(request)
        finally:
            request.code = code


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


class Validator(HashedCodeValidator):
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
        grant = Grant.objects.filter(code=code_digest(code), application=client).select_related("connection").first()
        if grant is not None and grant.redeemed is not None:
            _end_replayed_code(grant, request)
            return False
        if client.disabled or not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        if grant is None or grant.connection is None or grant.connection.revoked:
            return False  # a code of an ended connection is worthless
        request.gitlab_connection_id = grant.connection_id
        return True

    def invalidate_authorization_code(self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any) -> None:
        """Mark the grant redeemed instead of deleting it (`prune` does, once it expires): a second
        use of the code is then recognised. Two redemptions racing past validate_code: the loser's
        is a replay too."""
        grant = Grant.objects.filter(code=code_digest(code), application=request.client)
        if not grant.filter(redeemed__isnull=True).update(redeemed=timezone.now()):
            replayed = grant.select_related("connection").first()
            if replayed is not None:
                _end_replayed_code(replayed, request)
            raise errors.InvalidGrantError(request=request)

    def validate_user(self, username: str, password: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        return False  # no password grant (TokenView refuses it first): no password is ever checked here

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        checksum = hashlib.sha256(refresh_token.encode()).hexdigest()
        known = RefreshToken.objects.filter(token_checksum=checksum).select_related("connection").first()
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if known is None or known.connection is None:
            return False
        if not valid:
            if known.revoked is not None and known.connection.revoked is None:
                _end_reused_connection(known)
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

    def _check_and_set_request_resource(self, request: Any) -> None:
        # RFC 8707 at /token: PUBLIC_URL and PUBLIC_URL/mcp name one audience (canonical_resource),
        # compared with the grant's as MCP_RESOURCE_URL; any other resource stays as sent, for the
        # toolkit to refuse (invalid_target).
        sent = [value for key, value in (request.decoded_body or []) if key == "resource"]
        if sent and not isinstance(getattr(request, "resource", None), list):
            request.resource = [canonical_resource(r) or r for r in sent]
        super()._check_and_set_request_resource(request)

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # RFC 8628 for a client registered for the code flow too: it may sign in from a terminal
        # (the toolkit allows the device grant to device-grant clients only)...
        if grant_type == DEVICE_GRANT and client.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE:
            return True
        # ...and a device-grant client redeems the code the reference's headless shape gives it (the
        # browser flow never mints codes for such a client: it has no redirect URI).
        if grant_type == "authorization_code" and client.authorization_grant_type == Application.GRANT_DEVICE_CODE:
            return True
        return bool(super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs))

    def get_default_redirect_uri(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> Any:
        # At /token, a code minted for a headless client (no redirect URI) is redeemed without one.
        if request.grant_type == "authorization_code" and not request.client.only_redirect_uri():
            return HEADLESS_REDIRECT
        return super().get_default_redirect_uri(client_id, request, *args, **kwargs)

    def get_code_challenge(self, code: str, request: Any) -> Any:
        # RFC 6749 §5.2 / RFC 7636 §4.6: a code redeemed without its verifier is invalid_grant
        # (oauthlib's default answer, invalid_request, names the wrong error).
        challenge = super().get_code_challenge(code, request)
        if challenge and request.code_verifier is None:
            raise errors.InvalidGrantError("code_verifier is missing.", request=request)
        return challenge

    def confirm_redirect_uri(
        self, client_id: str, code: str, redirect_uri: str, client: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # RFC 6749 §5.2: a redirect_uri other than the authorization request's is invalid_grant
        # (oauthlib's default answer, invalid_request, names the wrong error).
        if not super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs):
            raise errors.InvalidGrantError("redirect_uri differs from the authorization request's.")
        return True


def _end_replayed_code(grant: Grant, request: Any) -> None:
    """RFC 6749 §4.1.2: a code used more than once is refused, and the tokens already issued from
    it are revoked; they belong to the grant's connection, which ends."""
    from oauth_gateway.services.audit import audit
    from oauth_gateway.services.connections import connection_revoke

    audit(
        AuditEvent.Kind.CODE_REPLAY_DETECTED,
        outcome="denied",
        user_id=grant.user_id,
        application_id=grant.application_id,
        connection_id=grant.connection_id,
        ip=(request.headers or {}).get("REMOTE_ADDR"),
    )
    if grant.connection is not None:
        connection_revoke(connection=grant.connection, by=AuditEvent.Actor.CODE_REPLAY)


def _end_reused_connection(token: RefreshToken) -> None:
    """RFC 9700 §4.14.2: a rotated refresh token used again means it leaked; end the connection."""
    from oauth_gateway.services.audit import audit
    from oauth_gateway.services.connections import connection_revoke

    assert token.connection is not None
    audit(
        AuditEvent.Kind.REFRESH_REUSE_DETECTED,
        outcome="denied",
        user_id=token.user_id,
        application_id=token.application_id,
        connection_id=token.connection_id,
    )
    connection_revoke(connection=token.connection, by=AuditEvent.Actor.REFRESH_REUSE)
