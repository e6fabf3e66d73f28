"""All SQL about files."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StoredFile
from app.pagination import Keyset, newest_first


async def get(session: AsyncSession, owner_id: uuid.UUID, file_id: uuid.UUID) -> StoredFile | None:
    found = await session.get(StoredFile, file_id)
    return found if found is not None and found.owner_id == owner_id else None


async def used_bytes(session: AsyncSession, owner_id: uuid.UUID) -> int:
    query = select(func.coalesce(func.sum(StoredFile.size), 0)).where(StoredFile.owner_id == owner_id)
    total = await session.scalar(query)
    return int(total or 0)


async def files_after(session: AsyncSession, owner_id: uuid.UUID, after: Keyset | None, limit: int) -> list[StoredFile]:
    query = select(StoredFile).where(StoredFile.owner_id == owner_id)
    return list(await session.scalars(newest_first(query, StoredFile.created_at, StoredFile.id, after, limit)))


async def for_thread(session: AsyncSession, thread_id: uuid.UUID) -> list[StoredFile]:
    query = select(StoredFile).where(StoredFile.thread_id == thread_id).order_by(StoredFile.created_at, StoredFile.id)
    return list(await session.scalars(query))


async def for_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> list[StoredFile]:
    if not message_ids:
        return []
    query = select(StoredFile).where(StoredFile.message_id.in_(message_ids)).order_by(StoredFile.created_at)
    return list(await session.scalars(query))


async def attach(session: AsyncSession, file_ids: Sequence[uuid.UUID], thread_id: uuid.UUID,
                 message_id: uuid.UUID) -> None:  # fmt: skip
    await session.execute(
        update(StoredFile).where(StoredFile.id.in_(file_ids)).values(thread_id=thread_id, message_id=message_id)
    )


async def keys_where(session: AsyncSession, *conditions: object) -> list[str]:
    return list(await session.scalars(select(StoredFile.storage_key).where(*conditions)))  # type: ignore[arg-type]


async def delete_where(session: AsyncSession, *conditions: object) -> list[str]:
    """Delete the rows; their object keys, for the caller to remove after commit."""
    keys = await keys_where(session, *conditions)
    await session.execute(delete(StoredFile).where(*conditions))  # type: ignore[arg-type]
    return keys


def older_than(cutoff: datetime) -> object:
    return StoredFile.created_at < cutoff
