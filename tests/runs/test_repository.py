"""Run rows on both databases: one active run per thread, guarded moves, what a model sees."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import Database, utcnow
from app.models import FinishReason, Message, MessageRole, Role, Run, RunStatus, Thread, User
from app.runs import repository as runs

pytestmark = pytest.mark.both_databases


async def new_thread(db: Database) -> Thread:
    async with db.transaction() as session:
        user = User(email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="-", role=Role.USER)
        session.add(user)
        await session.flush()
        thread = Thread(owner_id=user.id, title="A thread")
        session.add(thread)
        await session.flush()
        return thread


async def add_run(db: Database, thread: Thread, status: RunStatus) -> Run:
    async with db.transaction() as session:
        run = Run(owner_id=thread.owner_id, thread_id=thread.id, status=status)
        session.add(run)
        await session.flush()
        return run


@pytest.mark.parametrize("second", [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING])
async def test_a_thread_has_at_most_one_active_run(db: Database, second: RunStatus) -> None:
    thread = await new_thread(db)
    for finished in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED):
        await add_run(db, thread, finished)  # ended runs never count
    first = await add_run(db, thread, RunStatus.QUEUED)
    with pytest.raises(IntegrityError):  # the partial unique index, not a check in Python
        await add_run(db, thread, second)
    await add_run(db, await new_thread(db), second)  # another thread is free
    async with db.transaction() as session:
        active = await runs.active_for_thread(session, thread.id)
    assert active is not None and active.id == first.id


async def test_a_move_happens_only_from_where_the_run_was_left(db: Database) -> None:
    thread = await new_thread(db)
    run = await add_run(db, thread, RunStatus.QUEUED)
    async with db.transaction() as session:
        assert await runs.transition(
            session, run.id, from_status=RunStatus.QUEUED, status=RunStatus.RUNNING, attempts=1
        )
        assert not await runs.transition(session, run.id, from_status=RunStatus.QUEUED, status=RunStatus.RUNNING)
        stale = await runs.transition(
            session, run.id, from_status=RunStatus.RUNNING, attempt=2, status=RunStatus.COMPLETED
        )
        assert not stale  # an older attempt may not finish the run
        assert await runs.transition(
            session, run.id, from_status=RunStatus.RUNNING, attempt=1, status=RunStatus.COMPLETED
        )
    async with db.transaction() as session:
        stored = await runs.get(session, run.id)
        assert await runs.active_for_thread(session, thread.id) is None
        assert [r.id for r in await runs.with_status(session, [RunStatus.COMPLETED])] == [run.id]
        assert await runs.get_owned(session, uuid.uuid4(), run.id) is None
    assert stored is not None and (stored.status, stored.attempts) == (RunStatus.COMPLETED, 1)


async def test_the_conversation_is_in_order_without_error_notices(db: Database) -> None:
    thread = await new_thread(db)
    start = utcnow()
    rows = [
        (MessageRole.USER, "first", None),
        (MessageRole.ASSISTANT, "The provider rejected the API key.", FinishReason.ERROR),
        (MessageRole.USER, "again", None),
        (MessageRole.ASSISTANT, "partial", FinishReason.CANCELLED),
        (MessageRole.USER, "once more", None),
        (MessageRole.ASSISTANT, "answer", FinishReason.STOP),
    ]
    async with db.transaction() as session:
        for n, (role, content, finish) in reversed(list(enumerate(rows))):  # inserted out of order
            session.add(Message(thread_id=thread.id, role=role, content=content, finish_reason=finish,
                                created_at=start + timedelta(milliseconds=n)))  # fmt: skip
    async with db.transaction() as session:
        seen = [m.content for m in await runs.conversation(session, thread.id)]
    assert seen == ["first", "again", "partial", "once more", "answer"]


async def test_a_restart_keeps_the_saved_text_of_the_runs_it_interrupts(db: Database) -> None:
    from app.runs import service

    written, silent, other = await new_thread(db), await new_thread(db), await new_thread(db)
    kept = await add_run(db, written, RunStatus.RUNNING)
    empty = await add_run(db, silent, RunStatus.RUNNING)
    async with db.transaction() as session:
        await runs.save_partial_text(session, kept.id, 0, "Half a sentence")
        await runs.save_partial_text(session, kept.id, 1, "From an older attempt")  # refused: not its attempt
        done = Run(owner_id=other.owner_id, thread_id=other.id, status=RunStatus.COMPLETED)
        session.add(done)
        await session.flush()
        await runs.save_partial_text(session, done.id, 0, "Too late")  # refused: the run ended
    async with db.transaction() as session:
        await service.fail_interrupted(session)
    async with db.transaction() as session:
        replies = {m.run_id: (m.content, m.finish_reason) for m in await session.scalars(select(Message))}
        rows = {r.id: r for r in await session.scalars(select(Run))}
    assert replies == {
        kept.id: ("Half a sentence", FinishReason.INTERRUPTED),
        empty.id: (service.INTERRUPTED_MESSAGE, FinishReason.ERROR),
    }
    assert {rows[kept.id].status, rows[empty.id].status} == {RunStatus.FAILED}
    assert rows[kept.id].partial_text is None and rows[done.id].partial_text is None
    async with db.transaction() as session:  # the interrupted text is part of the conversation
        assert [m.content for m in await runs.conversation(session, written.id)] == ["Half a sentence"]
