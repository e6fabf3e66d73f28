"""SQL for threads and messages, always scoped to the thread's owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Uuid,
    cast,
    column,
    delete,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    table,
)
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Message, Thread
from app.models.thread import branch_downward, branch_upward
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


async def branch(session: AsyncSession, last_id: uuid.UUID, limit: int | None = None) -> list[Message]:
    """`last_id` and the messages before it on its branch (up to `limit` in all), oldest first."""
    path = branch_upward(last_id, limit)
    query = select(Message).join(path, Message.id == path.c.id).order_by(path.c.depth.desc())
    return list((await session.scalars(query)).all())


async def branch_ids(session: AsyncSession, last_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
    """The ids of `branch`, newest first."""
    path = branch_upward(last_id, limit)
    return [_as_id(row) for row in await session.scalars(select(path.c.id).order_by(path.c.depth))]


async def get_message(session: AsyncSession, thread_id: uuid.UUID, message_id: uuid.UUID) -> Message | None:
    return await session.scalar(select(Message).where(Message.id == message_id, Message.thread_id == thread_id))


async def siblings(
    session: AsyncSession, thread_id: uuid.UUID, messages: Sequence[Message]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """For each of `messages` that has other versions: the ids of all of them (its own among
    them), oldest first. Versions share a parent (the first messages of a thread share none)."""
    parents = {m.parent_id for m in messages}
    wanted = [Message.parent_id.in_([p for p in parents if p is not None])]
    if None in parents:
        wanted.append(Message.parent_id.is_(None))
    query = (
        select(Message.id, Message.parent_id)
        .where(Message.thread_id == thread_id, or_(*wanted))
        .order_by(Message.created_at, Message.id)
    )
    versions: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for message_id, parent_id in (await session.execute(query)).all():
        versions.setdefault(parent_id, []).append(message_id)
    return {m.id: versions[m.parent_id] for m in messages if len(versions.get(m.parent_id, ())) > 1}


async def newest_below(session: AsyncSession, message_id: uuid.UUID) -> uuid.UUID:
    """The newest of `message_id` and the messages after it: the end of its latest branch."""
    below = branch_downward(message_id)
    query = select(Message.id).join(below, Message.id == below.c.id)
    return _as_id(await session.scalar(query.order_by(Message.created_at.desc(), Message.id.desc()).limit(1)))


async def delete_from(session: AsyncSession, message_id: uuid.UUID) -> set[uuid.UUID]:
    """Delete `message_id` and every message after it (on every branch through it); their ids."""
    below = branch_downward(message_id)
    ids = {_as_id(row) for row in await session.scalars(select(below.c.id))}
    await session.execute(delete(Message).where(Message.id.in_(ids)).execution_options(synchronize_session="fetch"))
    return ids


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
