"""ID tokens: the signature against the provider's published keys (JWKS), then the claims.

The keys are kept per process. A token signed with a key id they do not hold makes one fresh
fetch of the JWKS (the provider rotated its keys); a key id still unknown after it is refused.
Verification is joserfc's, the claim rules (iss, aud, exp, iat, nonce, azp, at_hash) authlib's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from app.accounts.oidc.errors import IdTokenRefused

# Clock skew allowed between Nova and the provider.
LEEWAY_SECONDS = 60


class ProviderKeys:
    """The provider's signing keys, fetched on first use and again when a token needs it."""

    def __init__(self, fetch: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._fetch = fetch
        self._keys: KeySet | None = None

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            try:
                self._keys = KeySet.import_key_set(await self._fetch())  # type: ignore[arg-type]
            except (JoseError, KeyError, TypeError, ValueError) as exc:
                raise IdTokenRefused(f"the provider's JWKS is unusable: {exc!r}") from None
        return self._keys


@dataclass(frozen=True)
class Expected:
    """What a token must say to be ours: who issued it, for whom, for which sign-in."""

    issuer: str
    client_id: str
    nonce: str
    access_token: str | None
    algorithms: list[str]


async def verify_id_token(id_token: str, keys: ProviderKeys, expected: Expected) -> dict[str, Any]:
    """The token's claims once its signature and claims hold; IdTokenRefused otherwise."""
    token = await _verified_signature(id_token, keys, expected.algorithms)
    options = {
        "iss": {"essential": True, "value": expected.issuer},
        "aud": {"essential": True, "value": expected.client_id},
    }
    params = {"nonce": expected.nonce, "client_id": expected.client_id, "access_token": expected.access_token}
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(leeway=LEEWAY_SECONDS)
    except ExpiredTokenError:
        raise IdTokenRefused("the ID token has expired", expired=True) from None
    except JoseError as exc:
        raise IdTokenRefused(f"the ID token's claims were refused: {exc}") from None
    return dict(claims)


async def _verified_signature(id_token: str, keys: ProviderKeys, algorithms: list[str]) -> jwt.Token:
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            return jwt.decode(id_token, await keys.key_set(), registry=registry)
        except InvalidKeyIdError:
            return jwt.decode(id_token, await keys.key_set(refresh=True), registry=registry)
    except (JoseError, ValueError) as exc:  # ValueError: no key of the token's type at all
        raise IdTokenRefused(f"the ID token's signature was refused: {exc!r}") from None
