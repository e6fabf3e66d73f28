"""Nova as an OAuth 2.1 client of an MCP server's authorization server (authlib's request helpers,
sent through the egress guard): dynamic registration, the authorization URL with PKCE, tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from app.db import utcnow
from app.egress import EgressPolicy
from app.mcp_servers.oauth_discovery import Discovery, OAuthFailure, request_json

CLIENT_NAME = "Nova"


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str | None
    auth_method: str  # how the token endpoint knows us: none, client_secret_basic or client_secret_post


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str | None


class TokenRefused(OAuthFailure):
    """The token endpoint said no (invalid_grant, invalid_client...): only a new sign-in helps."""


def auth_method_for(secret: str | None, offered: tuple[str, ...]) -> str:
    if not secret:
        return "none"
    return "client_secret_basic" if "client_secret_basic" in offered or not offered else "client_secret_post"


async def register(policy: EgressPolicy, found: Discovery, redirect_uri: str) -> ClientCredentials:
    """RFC 7591: a client of our own, confidential when the server takes client_secret_basic."""
    if not found.registration_endpoint:
        raise OAuthFailure("This server's authorization server does not register clients by itself: "
                           "enter a client id (and secret) under Authentication.")  # fmt: skip
    method = "client_secret_basic" if "client_secret_basic" in found.auth_methods else "none"
    metadata: dict[str, Any] = {
        "client_name": CLIENT_NAME, "redirect_uris": [redirect_uri], "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    }  # fmt: skip
    if found.scopes:
        metadata["scope"] = found.scopes
    status, body = await request_json(policy, "POST", found.registration_endpoint, "registration endpoint",
                                      content=json.dumps(metadata), headers={"Content-Type": "application/json",
                                                                             "Accept": "application/json"})  # fmt: skip
    client_id = body.get("client_id")
    if status not in (200, 201) or not isinstance(client_id, str) or not client_id:
        raise OAuthFailure(f"The authorization server refused to register Nova: {_reason(status, body)}.")
    secret = body.get("client_secret") if isinstance(body.get("client_secret"), str) else None
    granted = str(body.get("token_endpoint_auth_method") or method)
    if not secret or granted not in ClientAuth.DEFAULT_AUTH_METHODS:
        granted = "none" if not secret else method
    return ClientCredentials(client_id, secret, granted)


def authorization_url(found: Discovery, client: ClientCredentials, *, redirect_uri: str, state: str,
                      code_verifier: str, scopes: str | None) -> str:  # fmt: skip
    url: str = prepare_grant_uri(
        found.authorization_endpoint, client.client_id, "code", redirect_uri=redirect_uri,
        scope=scopes or None, state=state, code_challenge=create_s256_code_challenge(code_verifier),
        code_challenge_method="S256", resource=found.resource,
    )  # fmt: skip
    return url


async def exchange_code(policy: EgressPolicy, token_endpoint: str, client: ClientCredentials, *, code: str,
                        redirect_uri: str, code_verifier: str, resource: str) -> TokenSet:  # fmt: skip
    body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri,
                                 code_verifier=code_verifier, resource=resource)  # fmt: skip
    return await _token_request(policy, token_endpoint, client, body, None)


async def refresh(policy: EgressPolicy, token_endpoint: str, client: ClientCredentials, *, refresh_token: str,
                  resource: str) -> TokenSet:  # fmt: skip
    body = prepare_token_request("refresh_token", refresh_token=refresh_token, resource=resource)
    return await _token_request(policy, token_endpoint, client, body, refresh_token)


async def _token_request(policy: EgressPolicy, endpoint: str, client: ClientCredentials, body: str,
                         old_refresh: str | None) -> TokenSet:  # fmt: skip
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    auth = ClientAuth(client.client_id, client.client_secret, client.auth_method)
    url, headers, body = auth.prepare("POST", endpoint, headers, body)
    status, answer = await request_json(policy, "POST", url, "token endpoint", headers=headers, content=body)
    access = answer.get("access_token")
    if status != 200 or not isinstance(access, str) or not access:
        if 400 <= status < 500:
            raise TokenRefused(f"The authorization server refused the tokens: {_reason(status, answer)}.")
        raise OAuthFailure(f"The token endpoint failed: {_reason(status, answer)}.")
    if str(answer.get("token_type", "bearer")).lower() != "bearer":
        raise OAuthFailure(f"The token endpoint issued a {answer.get('token_type')} token; Nova sends bearer tokens.")
    refresh_token = answer.get("refresh_token")
    expires_in = answer.get("expires_in")
    lifetime = _seconds(expires_in)
    return TokenSet(
        access, refresh_token if isinstance(refresh_token, str) and refresh_token else old_refresh,
        utcnow() + timedelta(seconds=lifetime) if lifetime is not None else None,
        answer.get("scope") if isinstance(answer.get("scope"), str) else None,
    )  # fmt: skip


def _seconds(value: Any) -> int | None:
    """`expires_in`: a number of seconds, sometimes sent as a string; None when absent or nonsense."""
    try:
        return max(0, int(float(value))) if isinstance(value, int | float | str) else None
    except ValueError:
        return None


def _reason(status: int, body: dict[str, Any]) -> str:
    error = str(body.get("error") or f"HTTP {status}")[:100]
    description = str(body.get("error_description") or "")[:200]
    return f"{error} ({description})" if description else error
