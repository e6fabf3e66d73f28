"""SQL for the admin pages: what a user owns, counted before it is deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent, ApiToken, McpServer, Memory, Message, Provider, Run, StoredFile, Thread, User


async def _count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(query) or 0)


async def footprint(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    """Row counts per kind, and the bytes of the user's files."""

    def owned(model: Any, column: Any) -> Any:
        return select(func.count()).select_from(model).where(column == user_id)

    messages = select(func.count()).select_from(Message).join(Thread, Thread.id == Message.thread_id)
    files = select(func.count(), func.coalesce(func.sum(StoredFile.size), 0)).where(StoredFile.owner_id == user_id)
    file_count, file_bytes = (await session.execute(files)).one()
    return {
        "threads": await _count(session, owned(Thread, Thread.owner_id)),
        "messages": await _count(session, messages.where(Thread.owner_id == user_id)),
        "runs": await _count(session, owned(Run, Run.owner_id)),
        "memories": await _count(session, owned(Memory, Memory.owner_id)),
        "files": int(file_count or 0),
        "file_bytes": int(file_bytes or 0),
        "tokens": await _count(session, owned(ApiToken, ApiToken.user_id)),
        "agents": await _count(session, owned(Agent, Agent.owner_id)),
        "providers": await _count(session, owned(Provider, Provider.owner_id)),
        "mcp_servers": await _count(session, owned(McpServer, McpServer.owner_id)),
    }


async def run_ids(session: AsyncSession, user_id: uuid.UUID) -> Sequence[uuid.UUID]:
    return (await session.scalars(select(Run.id).where(Run.owner_id == user_id))).all()


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The database's ON DELETE CASCADE takes every row that names the user with it."""
    await session.execute(delete(User).where(User.id == user_id))
