"""Authorization codes stored hashed (RFC 6819 §5.1.4.1.3: no cleartext credentials at rest).

The grant table's `code` column holds the SHA-256 of each code, never the code the client received.
django-oauth-toolkit looks grants up by code in several validator methods; each is given the digest
of the code presented, so a copy of the database yields no code that could be redeemed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


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
