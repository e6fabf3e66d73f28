"""The OpenID provider as Nova talks to it: discovery, the token and userinfo endpoints, logout.

These requests do not go through the egress guard (app/egress). The guard stops *users* from
steering Nova at private addresses; the issuer is set by the administrator in the
environment, like a system LLM provider, and a provider on the home network (Authentik on
the LAN) is exactly what the guard would refuse. The other endpoints come from the issuer's
own discovery document, so they are trusted as far as the issuer is.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.discovery import OpenIDProviderMetadata

from app.accounts.oidc.errors import ProviderError
from app.accounts.oidc.id_tokens import Expected, ProviderKeys, verify_id_token
from app.settings import Settings

DISCOVERY_PATH = "/.well-known/openid-configuration"
TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderConfig:
        assert settings.oidc_issuer and settings.oidc_client_id, "single sign-on is not configured"
        secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        return cls(settings.oidc_issuer, settings.oidc_client_id, secret or None, tuple(settings.oidc_scopes))


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str | None


class OidcProvider:
    """Keeps the discovery document and the signing keys once fetched (one per app: client.py)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self.keys = ProviderKeys(self._fetch_jwks)

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            self._metadata = await self._discover()
        return self._metadata

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        url: str = prepare_grant_uri(
            endpoint, self.config.client_id, "code", redirect_uri=redirect_uri, scope=list(self.config.scopes),
            state=state, nonce=nonce, code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )  # fmt: skip
        return url

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> Tokens:
        metadata = await self.metadata()
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        auth = ClientAuth(self.config.client_id, self.config.client_secret, self._client_auth_method(metadata))
        url, headers, body = auth.prepare("POST", metadata["token_endpoint"], headers, body)
        answer = await self._request("POST", url, headers=headers, content=body)
        if not isinstance(answer.get("id_token"), str):
            raise ProviderError(f"the token endpoint answered without an id_token: {answer.get('error')}")
        access_token = answer.get("access_token")
        return Tokens(answer["id_token"], access_token if isinstance(access_token, str) else None)

    async def verified_claims(self, tokens: Tokens, nonce: str) -> dict[str, Any]:
        """The ID token's claims once it is checked (IdTokenRefused otherwise)."""
        metadata = await self.metadata()
        expected = Expected(metadata["issuer"], self.config.client_id, nonce, tokens.access_token,
                            _signing_algorithms(metadata))  # fmt: skip
        return await verify_id_token(tokens.id_token, self.keys, expected)

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        """The userinfo endpoint's claims, or none when the provider has no such endpoint."""
        endpoint = (await self.metadata()).get("userinfo_endpoint")
        if not endpoint:
            return {}
        return await self._request("GET", endpoint, headers={"Authorization": f"Bearer {access_token}"})

    async def end_session_url(self, *, id_token_hint: str, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout, where discovery offers it (`end_session_endpoint`)."""
        endpoint = (await self.metadata()).get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"id_token_hint": id_token_hint, "post_logout_redirect_uri": post_logout_redirect_uri,
                  "client_id": self.config.client_id}  # fmt: skip
        url: str = add_params_to_uri(endpoint, params)
        return url

    async def _discover(self) -> dict[str, Any]:
        document = await self._request("GET", self.config.issuer.rstrip("/") + DISCOVERY_PATH)
        metadata = OpenIDProviderMetadata(document)
        try:
            metadata.validate()  # also: the issuer is https, or http on loopback only
        except ValueError as exc:
            raise ProviderError(f"the discovery document was refused: {exc}") from None
        if metadata["issuer"] != self.config.issuer:  # OpenID Connect Discovery 4.3
            raise ProviderError(f"discovery names the issuer {metadata['issuer']!r}, not OIDC_ISSUER")
        return dict(metadata)

    async def _fetch_jwks(self) -> dict[str, Any]:
        return await self._request("GET", (await self.metadata())["jwks_uri"])

    def _client_auth_method(self, metadata: dict[str, Any]) -> str:
        if self.config.client_secret is None:
            return "none"
        # Discovery's default, when the provider does not list its methods, is client_secret_basic.
        offered = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return "client_secret_post" if "client_secret_basic" not in offered else "client_secret_basic"

    async def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, verify=_tls_context()) as client:
                response = await client.request(method, url, **kwargs)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"{method} {url} failed: {exc!r}") from None
        if not isinstance(answer, dict):
            raise ProviderError(f"{method} {url} answered something other than a JSON object")
        if response.is_error:
            raise ProviderError(f"{method} {url} answered {response.status_code}: {answer.get('error')}")
        return answer


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle for every request would cost more than the request."""
    return httpx.create_ssl_context()


def _signing_algorithms(metadata: dict[str, Any]) -> list[str]:
    """Asymmetric algorithms only: "none" and HMAC (keyed with the client secret) are refused."""
    offered = metadata.get("id_token_signing_alg_values_supported") or []
    asymmetric = [alg for alg in offered if isinstance(alg, str) and alg != "none" and not alg.startswith("HS")]
    return asymmetric or ["RS256"]  # the one every provider must support (Core 15.1)
