"""An OAuth server's access token at the moment of a call: the stored one while it is fresh,
else a new pair from the refresh token (kept at once: the old refresh token may now be dead).
When refreshing is refused, the server is marked "reconnect needed" and calls fail clearly."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import timedelta

from app.agents.tools.mcp import McpError
from app.db import Database, utcnow
from app.egress import EgressPolicy
from app.mcp_servers import oauth_repository
from app.mcp_servers.oauth_client import ClientCredentials, TokenRefused, TokenSet, refresh
from app.mcp_servers.oauth_discovery import OAuthFailure
from app.mcp_servers.oauth_service import RECONNECT, apply_tokens
from app.models import McpOAuthGrant, McpServer
from app.security.secretbox import SecretBox

# Refresh a little early: the token must still be good when the server reads it.
EARLY = timedelta(seconds=30)
# One refresh at a time per server in this process; a rotated refresh token works only once.
_locks: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()


def not_connected(name: str) -> str:
    return f"{name} is not connected: open Tools → {name} and choose Connect to sign in."


def reconnect_needed(name: str) -> str:
    return f"{name} needs you to sign in again (reconnect needed): open Tools → {name} and choose Reconnect."


@dataclass(frozen=True)
class _Stale:
    access_token: str
    refresh_token: str | None
    token_endpoint: str
    resource: str
    client: ClientCredentials


@dataclass(frozen=True)
class OAuthAccess:
    """An `McpAuth` for one server, reading and refreshing its grant in the database."""

    db: Database = field(repr=False)
    box: SecretBox = field(repr=False)
    server_id: uuid.UUID
    name: str

    async def headers(self, policy: EgressPolicy, *, renew: bool = False) -> dict[str, str]:
        lock = _locks.setdefault(self.server_id, asyncio.Lock())
        async with lock:
            return {"Authorization": f"Bearer {await self._access_token(policy, renew)}"}

    async def _access_token(self, policy: EgressPolicy, renew: bool) -> str:
        async with self.db.transaction() as session:
            grant = await oauth_repository.get_grant(session, self.server_id)
            stale = self._check(grant, renew)
            if isinstance(stale, str):
                return stale
        if not stale.refresh_token:
            await self._give_up(stale.access_token, "the authorization server gave Nova no refresh token")
            raise McpError(reconnect_needed(self.name))
        try:
            tokens = await refresh(policy, stale.token_endpoint, stale.client, refresh_token=stale.refresh_token,
                                   resource=stale.resource)  # fmt: skip
        except TokenRefused as exc:
            current = await self._give_up(stale.access_token, str(exc))
            if current is None:
                raise McpError(reconnect_needed(self.name)) from None
            return current
        except OAuthFailure as exc:  # the server is down or unreachable: try again next call
            raise McpError(f"{self.name}: Nova could not renew its sign-in: {exc}") from None
        return await self._keep(tokens)

    def _check(self, grant: McpOAuthGrant | None, renew: bool) -> str | _Stale:
        """The access token if it can be used as it is, else what refreshing it needs."""
        if grant is None or not grant.access_token_encrypted:
            raise McpError(not_connected(self.name))
        if grant.status == RECONNECT:
            raise McpError(reconnect_needed(self.name))
        access = self.box.decrypt(grant.access_token_encrypted)
        if not renew and (grant.expires_at is None or grant.expires_at > utcnow() + EARLY):
            return access
        secret = self.box.decrypt(grant.client_secret_encrypted) if grant.client_secret_encrypted else None
        refresh_token = self.box.decrypt(grant.refresh_token_encrypted) if grant.refresh_token_encrypted else None
        return _Stale(access, refresh_token, grant.token_endpoint, grant.resource,
                      ClientCredentials(grant.client_id, secret, grant.auth_method))  # fmt: skip

    async def _keep(self, tokens: TokenSet) -> str:
        async with self.db.transaction() as session:
            grant = await oauth_repository.get_grant(session, self.server_id, for_update=True)
            if grant is None:  # disconnected meanwhile: these tokens are not wanted
                raise McpError(not_connected(self.name))
            apply_tokens(self.box, grant, tokens)
        return tokens.access_token

    async def _give_up(self, seen: str, why: str) -> str | None:
        """Mark the grant "reconnect needed", unless another worker refreshed it meanwhile
        (its token is returned then)."""
        async with self.db.transaction() as session:
            grant = await oauth_repository.get_grant(session, self.server_id, for_update=True)
            if grant is None or not grant.access_token_encrypted:
                return None
            current = self.box.decrypt(grant.access_token_encrypted)
            if current != seen and grant.status != RECONNECT:
                return current
            grant.status, grant.error = RECONNECT, why[:500]
            server = await session.get(McpServer, self.server_id)
            if server is not None:
                server.last_error = reconnect_needed(self.name)[:500]
        return None


@dataclass(frozen=True)
class _Offline:
    """Where no database is at hand (listing tools for a form): no call can be made."""

    name: str

    async def headers(self, policy: EgressPolicy, *, renew: bool = False) -> dict[str, str]:
        raise McpError(not_connected(self.name))


def access_for(db: Database | None, box: SecretBox, server: McpServer) -> OAuthAccess | _Offline:
    return OAuthAccess(db, box, server.id, server.name) if db is not None else _Offline(server.name)
