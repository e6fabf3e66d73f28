"""Memory rules: what may be stored, ownership, search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.memory import repository
from app.models import Memory
from app.pagination import Keyset, Page, page_of

MAX_MEMORY_CHARS = 2000
PAGE_SIZE = 50


def _clean(content: str) -> str:
    content = " ".join(content.split())
    if not content:
        raise ValidationFailed({"content": "A memory cannot be empty."})
    if len(content) > MAX_MEMORY_CHARS:
        raise ValidationFailed({"content": f"Keep memories under {MAX_MEMORY_CHARS} characters."})
    return content


async def save(session: AsyncSession, owner_id: uuid.UUID, content: str) -> Memory:
    """Store a note; saving the same note twice keeps one."""
    content = _clean(content)
    existing = await repository.find_same(session, owner_id, content)
    if existing is not None:
        return existing
    memory = Memory(owner_id=owner_id, content=content)
    session.add(memory)
    await session.flush()
    return memory


async def get(session: AsyncSession, owner_id: uuid.UUID, memory_id: uuid.UUID) -> Memory:
    memory = await repository.get(session, owner_id, memory_id)
    if memory is None:
        raise NotFound(str(memory_id))
    return memory


async def update(session: AsyncSession, owner_id: uuid.UUID, memory_id: uuid.UUID, content: str) -> Memory:
    memory = await get(session, owner_id, memory_id)
    memory.content = _clean(content)
    await session.flush()
    return memory


async def delete(session: AsyncSession, owner_id: uuid.UUID, memory_id: uuid.UUID) -> None:
    await session.delete(await get(session, owner_id, memory_id))


async def recent(session: AsyncSession, owner_id: uuid.UUID, page: int = 1) -> Sequence[Memory]:
    return await repository.recent(session, owner_id, offset=(max(page, 1) - 1) * PAGE_SIZE, limit=PAGE_SIZE)


async def search(session: AsyncSession, owner_id: uuid.UUID, query: str, limit: int = 10) -> Sequence[Memory]:
    return await repository.search(session, owner_id, query, limit)


async def memories_after(
    session: AsyncSession, owner_id: uuid.UUID, cursor: str | None, limit: int, query: str | None = None
) -> Page[Memory]:
    """A page of memories for the API, newest first; `query` matches words as `search` does."""
    after = Keyset.decode(cursor) if cursor else None
    rows = await repository.memories_after(session, owner_id, after, limit, (query or "").strip() or None)
    return page_of(rows, limit, lambda m: (m.created_at, m.id))
