"""SQL for runs, always scoped to their owner on the web side."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FinishReason, Message, MessageRole, Run, RunStatus, Thread, User
from app.models.thread import branch_upward
from app.pagination import Keyset, newest_first


async def get_owned(session: AsyncSession, owner_id: uuid.UUID, run_id: uuid.UUID) -> Run | None:
    return await session.scalar(select(Run).where(Run.id == run_id, Run.owner_id == owner_id))


async def owned_after(
    session: AsyncSession, owner_id: uuid.UUID, after: Keyset | None, limit: int,
    thread_id: uuid.UUID | None, status: RunStatus | None,
) -> Sequence[Run]:  # fmt: skip
    query = select(Run).where(Run.owner_id == owner_id)
    if thread_id is not None:
        query = query.where(Run.thread_id == thread_id)
    if status is not None:
        query = query.where(Run.status == status)
    return (await session.scalars(newest_first(query, Run.created_at, Run.id, after, limit))).all()


async def get(session: AsyncSession, run_id: uuid.UUID) -> Run | None:
    return await session.get(Run, run_id)


async def with_inactive_owner(session: AsyncSession, run_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these runs belong to a suspended user (or to nobody any more)."""
    query = select(Run.id).join(User, Run.owner_id == User.id).where(Run.id.in_(run_ids), User.is_active.is_(True))
    return set(run_ids) - set(await session.scalars(query))


async def active_for_thread(session: AsyncSession, thread_id: uuid.UUID) -> Run | None:
    query = select(Run).where(
        Run.thread_id == thread_id,
        Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING]),
    )
    return await session.scalar(query)


async def active_of_owner(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[Run]:
    """The owner's queued, running and paused runs, oldest first."""
    query = select(Run).where(
        Run.owner_id == owner_id,
        Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING]),
    )
    return (await session.scalars(query.order_by(Run.created_at, Run.id))).all()


async def with_status(session: AsyncSession, statuses: Sequence[RunStatus]) -> Sequence[Run]:
    return (await session.scalars(select(Run).where(Run.status.in_(statuses)))).all()


async def transition(
    session: AsyncSession,
    run_id: uuid.UUID,
    *,
    from_status: RunStatus,
    attempt: int | None = None,
    **values: Any,
) -> bool:
    """Move a run on only if it is still where we left it (another attempt may own it)."""
    query = update(Run).where(Run.id == run_id, Run.status == from_status)
    if attempt is not None:
        query = query.where(Run.attempts == attempt)
    result = await session.execute(query.values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def save_partial_text(session: AsyncSession, run_id: uuid.UUID, attempt: int, text: str | None) -> None:
    """Only while this attempt still runs it: a late save must not outlive the run's end."""
    query = update(Run).where(Run.id == run_id, Run.status == RunStatus.RUNNING, Run.attempts == attempt)
    await session.execute(query.values(partial_text=text))


async def reply_for(session: AsyncSession, run_id: uuid.UUID) -> Message | None:
    return await session.scalar(select(Message).where(Message.run_id == run_id))


async def conversation(session: AsyncSession, thread_id: uuid.UUID) -> Sequence[Message]:
    """The messages a model should see: the thread's branch shown, oldest first, no error notices.
    (While a run is active its branch cannot change: it ends at the message the run answers.)"""
    thread = await session.get(Thread, thread_id)
    if thread is None or thread.current_message_id is None:
        return []
    path = branch_upward(thread.current_message_id)
    query = (
        select(Message)
        .join(path, Message.id == path.c.id)
        .where((Message.finish_reason.is_(None)) | (Message.finish_reason != FinishReason.ERROR))
        .order_by(path.c.depth.desc())
    )
    return (await session.scalars(query)).all()


async def version_ids(session: AsyncSession, message: Message) -> list[uuid.UUID]:
    """`message` and its siblings (its other versions: regenerated replies), oldest first."""
    same_parent = Message.parent_id.is_(None) if message.parent_id is None else Message.parent_id == message.parent_id
    query = select(Message.id).where(Message.thread_id == message.thread_id, same_parent)
    return list((await session.scalars(query.order_by(Message.created_at, Message.id))).all())


def reply_message(run: Run, content: str, finish: FinishReason, created_at: datetime) -> Message:
    return Message(
        thread_id=run.thread_id,
        role=MessageRole.ASSISTANT,
        content=content,
        agent_id=run.agent_id,
        run_id=run.id,
        finish_reason=finish,
        created_at=created_at,
    )


async def count_dispatched(session: AsyncSession, owner_id: uuid.UUID) -> int:
    """The owner's runs handed to the queue and not yet ended or paused."""
    query = select(func.count()).where(
        Run.owner_id == owner_id,
        Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
        Run.dispatched_at.is_not(None),
    )
    return int(await session.scalar(query) or 0)


async def held(session: AsyncSession, owner_id: uuid.UUID, limit: int) -> Sequence[Run]:
    """The owner's queued runs still waiting for their turn, oldest first."""
    query = (
        select(Run)
        .where(Run.owner_id == owner_id, Run.status == RunStatus.QUEUED, Run.dispatched_at.is_(None))
        .order_by(Run.created_at, Run.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def owners_with_held_runs(session: AsyncSession) -> Sequence[uuid.UUID]:
    query = select(Run.owner_id).where(Run.status == RunStatus.QUEUED, Run.dispatched_at.is_(None)).distinct()
    return (await session.scalars(query)).all()


async def dispatched_before(session: AsyncSession, before: datetime) -> Sequence[Run]:
    """Queued runs handed to the queue before `before` that no worker has claimed."""
    query = select(Run).where(Run.status == RunStatus.QUEUED, Run.dispatched_at < before)
    return (await session.scalars(query)).all()


async def lock_owner(session: AsyncSession, owner_id: uuid.UUID) -> None:
    """Serialize admissions of one owner's runs across processes (PostgreSQL row lock)."""
    await session.execute(select(User.id).where(User.id == owner_id).with_for_update())
