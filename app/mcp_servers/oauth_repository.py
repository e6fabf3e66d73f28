"""SQL for MCP OAuth: one grant per server, sign-ins under way (each found once, by its owner)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import McpOAuthGrant, McpOAuthRequest


async def get_grant(session: AsyncSession, server_id: uuid.UUID, *, for_update: bool = False) -> McpOAuthGrant | None:
    query = select(McpOAuthGrant).where(McpOAuthGrant.server_id == server_id)
    # On PostgreSQL a second worker refreshing the same grant waits here for the first.
    return await session.scalar(query.with_for_update() if for_update else query)


async def delete_grant(session: AsyncSession, server_id: uuid.UUID) -> None:
    await session.execute(delete(McpOAuthGrant).where(McpOAuthGrant.server_id == server_id))


async def take_request(session: AsyncSession, request_id: str, owner_id: uuid.UUID) -> McpOAuthRequest | None:
    """The sign-in, deleted as it is read; only its owner can take it. Of two callbacks racing
    with one `state`, the second deletes nothing and gets None."""
    request = await session.get(McpOAuthRequest, request_id)
    if request is None or request.owner_id != owner_id:
        return None
    deleted = await session.execute(
        delete(McpOAuthRequest).where(McpOAuthRequest.id == request_id, McpOAuthRequest.owner_id == owner_id)
    )
    return request if deleted.rowcount == 1 else None  # type: ignore[attr-defined]


async def delete_expired_requests(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(McpOAuthRequest).where(McpOAuthRequest.expires_at <= now))
