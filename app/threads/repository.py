"""SQL for threads and messages, always scoped to the thread's owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Uuid, cast, column, exists, func, literal_column, null, or_, select, table
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Message, Thread
from app.pagination import Keyset, newest_first


async def list_threads(
    session: AsyncSession, owner_id: uuid.UUID, *, offset: int, limit: int, pinned: bool = False, archived: bool = False
) -> Sequence[Thread]:
    """The sidebar's threads (neither pinned nor archived), or the pinned or the archived ones."""
    query = (
        select(Thread)
        .where(Thread.owner_id == owner_id, Thread.archived == archived)
        .order_by(Thread.updated_at.desc(), Thread.id)
        .offset(offset)
        .limit(limit)
    )
    if not archived:
        query = query.where(Thread.pinned == pinned)
    return (await session.scalars(query)).all()


async def threads_after(
    session: AsyncSession,
    owner_id: uuid.UUID,
    after: Keyset | None,
    limit: int,
    text: str | None,
    words: Sequence[str] = (),
) -> Sequence[Thread]:
    """Most recently active first; with `words`, only threads whose title or a message has them all
    (as `search` finds them), else with `text`, those whose title or a message holds it."""
    query = select(Thread).where(Thread.owner_id == owner_id)
    if words:
        query = query.where(Thread.id.in_(select(_hits(session, owner_id, words).subquery().c.thread_id)))
    elif text:  # no word to look up (`%`, `?`): the text itself, anywhere
        in_messages = exists().where(Message.thread_id == Thread.id, Message.content.icontains(text, autoescape=True))
        query = query.where(or_(Thread.title.icontains(text, autoescape=True), in_messages))
    query = newest_first(query, Thread.updated_at, Thread.id, after, limit)
    return (await session.scalars(query)).all()


async def get_thread(session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID) -> Thread | None:
    query = select(Thread).where(Thread.id == thread_id, Thread.owner_id == owner_id)
    return await session.scalar(query)


async def latest_messages(
    session: AsyncSession, thread_id: uuid.UUID, limit: int, before: Message | None = None
) -> list[Message]:
    """Up to `limit` messages (oldest first) that come before `before`, or the newest ones."""
    query = select(Message).where(Message.thread_id == thread_id)
    if before is not None:
        query = query.where(
            (Message.created_at < before.created_at)
            | ((Message.created_at == before.created_at) & (Message.id < before.id))
        )
    query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    return list(reversed((await session.scalars(query)).all()))


async def get_message(session: AsyncSession, thread_id: uuid.UUID, message_id: uuid.UUID) -> Message | None:
    return await session.scalar(select(Message).where(Message.id == message_id, Message.thread_id == thread_id))


async def latest_message(session: AsyncSession, thread_id: uuid.UUID) -> Message | None:
    query = select(Message).where(Message.thread_id == thread_id).order_by(Message.created_at.desc(), Message.id.desc())
    return await session.scalar(query.limit(1))


@dataclass(frozen=True)
class SearchHit:
    """A thread's best match: its title (`message_id` None) or one of its messages."""

    thread_id: uuid.UUID
    message_id: uuid.UUID | None
    matches: int


async def search(session: AsyncSession, owner_id: uuid.UUID, words: Sequence[str], limit: int) -> list[SearchHit]:
    """The owner's threads whose title or a message has every word (as a prefix), best match
    first (bm25 on SQLite, ts_rank on PostgreSQL), then the most recent; one hit a thread."""
    hits = _hits(session, owner_id, words).subquery()
    ranked = select(
        hits.c.thread_id,
        hits.c.message_id,
        hits.c.score,
        hits.c.at,
        func.row_number().over(partition_by=hits.c.thread_id, order_by=(hits.c.score, hits.c.at.desc())).label("n"),
        func.count().over(partition_by=hits.c.thread_id).label("matches"),
    ).subquery()
    query = (
        select(ranked.c.thread_id, ranked.c.message_id, ranked.c.matches)
        .where(ranked.c.n == 1)
        .order_by(ranked.c.score, ranked.c.at.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [SearchHit(_as_id(row[0]), _as_id(row[1]) if row[1] else None, int(row[2])) for row in rows]


def _hits(session: AsyncSession, owner_id: uuid.UUID, words: Sequence[str]) -> Select[Any]:
    """(thread_id, message_id, score, at) for each of the owner's titles and messages that has
    every word; a lower score is a better match. Words are letters and digits only (callers
    split them so), which keeps every query syntax out of both MATCH and to_tsquery."""
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery("simple", " & ".join(f"{word}:*" for word in words))
        # The configuration written out, not bound: only then can the planner use the GIN indexes.
        simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
        content, title = func.to_tsvector(simple, Message.content), func.to_tsvector(simple, Thread.title)
        in_titles = select(
            Thread.id.label("thread_id"),
            cast(null(), Uuid).label("message_id"),
            (-func.ts_rank(title, tsquery)).label("score"),
            Thread.updated_at.label("at"),
        ).where(Thread.owner_id == owner_id, title.op("@@")(tsquery))
        in_messages = (
            select(Message.thread_id, Message.id, -func.ts_rank(content, tsquery), Message.created_at)
            .join(Thread, Thread.id == Message.thread_id)
            .where(Thread.owner_id == owner_id, content.op("@@")(tsquery))
        )
        return in_titles.union_all(in_messages)  # type: ignore[return-value]
    fts = table("thread_search_fts", column("thread_id"), column("message_id"))
    match = sql_text("thread_search_fts MATCH :match").bindparams(match=" ".join(f'"{word}"*' for word in words))
    return (
        select(
            Thread.id.label("thread_id"),
            Message.id.label("message_id"),
            func.bm25(literal_column("thread_search_fts")).label("score"),
            func.coalesce(Message.created_at, Thread.updated_at).label("at"),
        )
        .select_from(fts)
        .join(Thread, Thread.id == fts.c.thread_id)
        .outerjoin(Message, Message.id == fts.c.message_id)
        .where(match, Thread.owner_id == owner_id)
    )


def _as_id(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def threads_by_id(
    session: AsyncSession, owner_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Thread]:
    query = select(Thread).where(Thread.owner_id == owner_id, Thread.id.in_(ids))
    return {thread.id: thread for thread in await session.scalars(query)}


async def messages_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Message]:
    return {message.id: message for message in await session.scalars(select(Message).where(Message.id.in_(ids)))}


async def count_newer(session: AsyncSession, message: Message, limit: int) -> int:
    """How many of its thread's messages come after `message` (counted up to `limit`)."""
    newer = (
        select(Message.id)
        .where(
            Message.thread_id == message.thread_id,
            (Message.created_at > message.created_at)
            | ((Message.created_at == message.created_at) & (Message.id > message.id)),
        )
        .limit(limit)
    )
    return int(await session.scalar(select(func.count()).select_from(newer.subquery())) or 0)
