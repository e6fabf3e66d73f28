"""SQL for memories, with full-text search on PostgreSQL (tsvector) and SQLite (FTS5)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, column, func, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Memory
from app.pagination import Keyset, newest_first

WORD = re.compile(r"\w+", re.UNICODE)


async def get(session: AsyncSession, owner_id: uuid.UUID, memory_id: uuid.UUID) -> Memory | None:
    return await session.scalar(select(Memory).where(Memory.id == memory_id, Memory.owner_id == owner_id))


async def find_same(session: AsyncSession, owner_id: uuid.UUID, content: str) -> Memory | None:
    return await session.scalar(select(Memory).where(Memory.owner_id == owner_id, Memory.content == content))


async def recent(session: AsyncSession, owner_id: uuid.UUID, *, offset: int, limit: int) -> Sequence[Memory]:
    query = (
        select(Memory)
        .where(Memory.owner_id == owner_id)
        .order_by(Memory.created_at.desc(), Memory.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def memories_after(
    session: AsyncSession, owner_id: uuid.UUID, after: Keyset | None, limit: int, query: str | None
) -> Sequence[Memory]:
    """Newest first; with `query`, only memories matching a word of it (as `search` matches)."""
    statement = select(Memory).where(Memory.owner_id == owner_id)
    if query:
        words = WORD.findall(query.lower())[:20]
        if not words:
            return []
        statement = statement.where(_matching(session, owner_id, words))
    statement = newest_first(statement, Memory.created_at, Memory.id, after, limit)
    return (await session.scalars(statement)).all()


def _matching(session: AsyncSession, owner_id: uuid.UUID, words: list[str]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery("simple", " | ".join(f"{w}:*" for w in words))
        return func.to_tsvector("simple", Memory.content).op("@@")(tsquery)
    fts = table("memories_fts", column("memory_id"), column("owner_id"))
    match = text("memories_fts MATCH :match").bindparams(match=" OR ".join(f'"{w}"*' for w in words))
    return Memory.id.in_(select(fts.c.memory_id).where(match, fts.c.owner_id == owner_id.hex))


async def search(session: AsyncSession, owner_id: uuid.UUID, query: str, limit: int) -> Sequence[Memory]:
    """Memories matching any word of the query, best matches first."""
    words = WORD.findall(query.lower())[:20]
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return await _search_postgres(session, owner_id, words, limit)
    return await _search_sqlite(session, owner_id, words, limit)


async def _search_postgres(
    session: AsyncSession, owner_id: uuid.UUID, words: list[str], limit: int
) -> Sequence[Memory]:
    vector = func.to_tsvector("simple", Memory.content)
    tsquery = func.to_tsquery("simple", " | ".join(f"{w}:*" for w in words))
    statement = (
        select(Memory)
        .where(Memory.owner_id == owner_id, vector.op("@@")(tsquery))
        .order_by(func.ts_rank(vector, tsquery).desc(), Memory.created_at.desc())
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def _search_sqlite(session: AsyncSession, owner_id: uuid.UUID, words: list[str], limit: int) -> Sequence[Memory]:
    # Each word quoted as an FTS5 string with a prefix star: no query syntax gets through.
    match = " OR ".join(f'"{w}"*' for w in words)
    rows = await session.execute(
        text(
            "SELECT memory_id FROM memories_fts WHERE memories_fts MATCH :match "
            "AND owner_id = :owner ORDER BY rank LIMIT :limit"
        ),
        {"match": match, "owner": owner_id.hex, "limit": limit},
    )
    ids = [uuid.UUID(str(row[0])) for row in rows]
    if not ids:
        return []
    found = {m.id: m for m in await session.scalars(select(Memory).where(Memory.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
