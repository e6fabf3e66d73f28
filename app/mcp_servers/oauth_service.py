"""Connecting a user's MCP server with OAuth 2.1: discovery and registration, a sign-in under way
(its `state` good once, for its owner and server, for ten minutes), the grant kept encrypted.

Network steps (`prepare`, `finish`) take no session: the views call them between transactions.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.egress import EgressPolicy
from app.mcp_servers import oauth_client, oauth_repository
from app.mcp_servers.oauth_client import ClientCredentials, TokenSet
from app.mcp_servers.oauth_discovery import Discovery, check_reachable, discover
from app.models import McpOAuthGrant, McpOAuthRequest, McpServer
from app.security.secretbox import SecretBox
from app.security.tokens import token_hash

REQUEST_MINUTES = 10
CONNECTED, RECONNECT = "connected", "reconnect"


@dataclass(frozen=True)
class OAuthSettings:
    """What the user entered: all optional (no client id: Nova registers itself)."""

    client_id: str = ""
    client_secret: str = ""
    scopes: str = ""

    @classmethod
    def of(cls, box: SecretBox, server: McpServer) -> OAuthSettings:
        stored = json.loads(box.decrypt(server.auth_encrypted)) if server.auth_encrypted else {}
        return cls(*(str(stored.get(k) or "") for k in ("client_id", "client_secret", "scopes")))


@dataclass(frozen=True)
class Prepared:
    found: Discovery
    client: ClientCredentials
    registered: bool
    scopes: str | None


@dataclass(frozen=True)
class Pending:
    server_id: uuid.UUID
    code_verifier: str
    redirect_uri: str
    issuer: str
    token_endpoint: str
    resource: str
    client: ClientCredentials
    registered: bool
    scopes: str | None


async def prepare(policy: EgressPolicy, settings: OAuthSettings, server_url: str, redirect_uri: str) -> Prepared:
    """Where to sign in and as which client (OAuthFailure with the reason otherwise)."""
    found = await discover(policy, server_url)
    await check_reachable(found.authorization_endpoint, policy, "authorization endpoint")
    if settings.client_id:
        method = oauth_client.auth_method_for(settings.client_secret, found.auth_methods)
        client = ClientCredentials(settings.client_id, settings.client_secret or None, method)
    else:
        client = await oauth_client.register(policy, found, redirect_uri)
    return Prepared(found, client, not settings.client_id, settings.scopes or found.scopes)


async def begin(session: AsyncSession, box: SecretBox, server: McpServer, prepared: Prepared,
                redirect_uri: str) -> str:  # fmt: skip
    """The authorization URL to send the browser to; its sign-in is stored until it comes back."""
    await oauth_repository.delete_expired_requests(session, utcnow())
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    found, client = prepared.found, prepared.client
    session.add(McpOAuthRequest(
        id=token_hash(state), owner_id=server.owner_id, server_id=server.id, code_verifier=verifier,
        redirect_uri=redirect_uri, issuer=found.issuer, token_endpoint=found.token_endpoint, resource=found.resource,
        client_id=client.client_id, client_secret_encrypted=_encrypt(box, client.client_secret),
        registered=prepared.registered, auth_method=client.auth_method, scopes=prepared.scopes,
        expires_at=utcnow() + timedelta(minutes=REQUEST_MINUTES),
    ))  # fmt: skip
    return oauth_client.authorization_url(found, client, redirect_uri=redirect_uri, state=state,
                                          code_verifier=verifier, scopes=prepared.scopes)  # fmt: skip


async def take(session: AsyncSession, box: SecretBox, owner_id: uuid.UUID, state: str) -> Pending | None:
    """The sign-in `state` belongs to, if it is this user's and fresh; no later call finds it."""
    row = await oauth_repository.take_request(session, token_hash(state), owner_id)
    if row is None or row.expires_at <= utcnow():
        return None
    secret = box.decrypt(row.client_secret_encrypted) if row.client_secret_encrypted else None
    return Pending(row.server_id, row.code_verifier, row.redirect_uri, row.issuer, row.token_endpoint, row.resource,
                   ClientCredentials(row.client_id, secret, row.auth_method), row.registered, row.scopes)  # fmt: skip


async def finish(policy: EgressPolicy, pending: Pending, code: str) -> TokenSet:
    return await oauth_client.exchange_code(policy, pending.token_endpoint, pending.client, code=code,
                                            redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier,
                                            resource=pending.resource)  # fmt: skip


async def store(session: AsyncSession, box: SecretBox, server: McpServer, pending: Pending, tokens: TokenSet) -> None:
    """The server's grant from now on (a reconnect replaces the old one)."""
    await oauth_repository.delete_grant(session, server.id)
    await session.flush()
    grant = McpOAuthGrant(
        server_id=server.id, issuer=pending.issuer, token_endpoint=pending.token_endpoint, resource=pending.resource,
        client_id=pending.client.client_id, client_secret_encrypted=_encrypt(box, pending.client.client_secret),
        registered=pending.registered, auth_method=pending.client.auth_method, scopes=tokens.scope or pending.scopes,
    )  # fmt: skip
    apply_tokens(box, grant, tokens)
    session.add(grant)


def apply_tokens(box: SecretBox, grant: McpOAuthGrant, tokens: TokenSet) -> None:
    """New tokens, encrypted; the grant works again."""
    grant.access_token_encrypted = box.encrypt(tokens.access_token)
    grant.refresh_token_encrypted = _encrypt(box, tokens.refresh_token)
    grant.expires_at = tokens.expires_at
    grant.status, grant.error, grant.refreshed_at = CONNECTED, None, utcnow()


async def grant_of(session: AsyncSession, server: McpServer) -> McpOAuthGrant | None:
    return await oauth_repository.get_grant(session, server.id) if server.auth_kind == "oauth" else None


async def disconnect(session: AsyncSession, server: McpServer) -> None:
    """Forget the tokens (the authorization server keeps its side until they expire)."""
    await oauth_repository.delete_grant(session, server.id)


def _encrypt(box: SecretBox, value: str | None) -> str | None:
    return box.encrypt(value) if value else None


def checked_settings(client_id: str, client_secret: str, scopes: str, stored: dict[str, Any],
                     errors: dict[str, str]) -> dict[str, str]:  # fmt: skip
    """The OAuth settings to store (a blank secret keeps the stored one); `errors` gets the rest."""
    secret = client_secret or (str(stored.get("client_secret") or "") if client_id else "")
    if len(client_id) > 500 or not client_id.isprintable() or " " in client_id:
        errors["client_id"] = "A client id is one word of printable characters (or blank: Nova registers itself)."
    if secret and not client_id:
        errors["client_secret"] = "A client secret needs its client id."
    elif len(secret) > 2000 or not secret.isprintable():
        errors["client_secret"] = "A client secret is one line of printable characters."
    if len(scopes) > 1000 or not all(part.isprintable() and '"' not in part for part in scopes.split()):
        errors["scopes"] = "Scopes are words separated by spaces."
    found = {"client_id": client_id, "client_secret": secret, "scopes": " ".join(scopes.split())}
    return {key: value for key, value in found.items() if value}


def hint(secrets: dict[str, Any]) -> str:
    client = secrets.get("client_id")
    return f"OAuth 2.1, client {str(client)[:60]}" if client else "OAuth 2.1, Nova registers itself"
