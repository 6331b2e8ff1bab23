"""Encryption of GitLab tokens at rest, with a key derived from OAUTH_SESSION_SECRET.

Fernet (AES-128-CBC + HMAC-SHA256); the key comes from HKDF-SHA256 over the secret, so the secret
itself is never used as a key and other uses of it (Django's SECRET_KEY) get unrelated keys.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class DecryptionFailed(Exception):
    """A stored value cannot be read with the current secret (it changed, or the row is corrupt)."""


@functools.cache
def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"gitlab-mcp", info=b"gitlab tokens v1").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    return _fernet(settings.OAUTH_SESSION_SECRET).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.OAUTH_SESSION_SECRET).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed("stored GitLab token cannot be decrypted with OAUTH_SESSION_SECRET") from exc
