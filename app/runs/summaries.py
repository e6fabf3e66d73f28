"""Stored summaries of earlier messages (models/summary.py): found for a run's branch, kept
once made, and the one the thread page shows.

No langchain here: the thread page reads it too. The worker's side, which writes them, is
`summarizing.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Message, Thread, ThreadSummary
from app.models.thread import branch_upward


@dataclass(frozen=True)
class StoredSummary:
    """A summary as a run uses it: it stands for the first `covers` turns of its history."""

    text: str
    covers: int


async def for_history(
    session: AsyncSession, thread_id: uuid.UUID, turn_ids: Sequence[uuid.UUID]
) -> StoredSummary | None:
    """The summary that reaches furthest down this history (a branch's messages, oldest first),
    short of its last message (the one being answered is always sent as written); None if no
    summary ends on one of them (another branch's does not count)."""
    if not turn_ids:
        return None
    query = select(ThreadSummary.covers_message_id, ThreadSummary.text).where(
        ThreadSummary.thread_id == thread_id, ThreadSummary.covers_message_id.in_(turn_ids)
    )
    found = {row.covers_message_id: row.text for row in await session.execute(query)}
    for index in range(len(turn_ids) - 2, -1, -1):
        if (text := found.get(turn_ids[index])) is not None:
            return StoredSummary(text, index + 1)
    return None


async def store(
    session: AsyncSession, thread_id: uuid.UUID, covers_message_id: uuid.UUID, count: int, text: str, model: str
) -> bool:
    """Keep a summary ending at this message; False if one already does (a run of another branch
    through it made one: a thread runs one run at a time, so none is being made beside this one)."""
    taken = select(ThreadSummary.id).where(ThreadSummary.covers_message_id == covers_message_id)
    if await session.scalar(taken) is not None:
        return False
    session.add(ThreadSummary(thread_id=thread_id, covers_message_id=covers_message_id,
                              message_count=count, text=text, model=model[:200]))  # fmt: skip
    return True


async def shown(session: AsyncSession, thread: Thread) -> ThreadSummary | None:
    """The summary the next run of the branch shown starts from: the one furthest down it."""
    if thread.current_message_id is None:
        return None
    path = branch_upward(thread.current_message_id)
    query = (
        select(ThreadSummary)
        .join(path, ThreadSummary.covers_message_id == path.c.id)
        .where(ThreadSummary.thread_id == thread.id)
        .order_by(path.c.depth)
        .limit(1)
    )
    return await session.scalar(query)


async def shown_among(session: AsyncSession, messages: Sequence[Message]) -> ThreadSummary | None:
    """The summary `shown`, if it ends on one of these messages (a page of the branch shown),
    where the page puts it: after that message."""
    if not messages or (thread := await session.get(Thread, messages[0].thread_id)) is None:
        return None
    summary = await shown(session, thread)
    return summary if summary is not None and summary.covers_message_id in {m.id for m in messages} else None
