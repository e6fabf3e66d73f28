"""SQL for threads and messages, always scoped to the thread's owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Message, Thread
from app.pagination import Keyset, newest_first


async def list_threads(session: AsyncSession, owner_id: uuid.UUID, *, offset: int, limit: int) -> Sequence[Thread]:
    query = (
        select(Thread)
        .where(Thread.owner_id == owner_id)
        .order_by(Thread.updated_at.desc(), Thread.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def threads_after(
    session: AsyncSession, owner_id: uuid.UUID, after: Keyset | None, limit: int, text: str | None
) -> Sequence[Thread]:
    """Most recently active first; with `text`, only threads whose title or a message holds it."""
    query = select(Thread).where(Thread.owner_id == owner_id)
    if text:
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
