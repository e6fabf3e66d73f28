"""Random tokens that are shown once and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "nova_"


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
