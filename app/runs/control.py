"""The web edge's operations on runs that span more than one transaction.

A run is handed to the queue only after the transaction that created it committed (a
worker must find it); if the queue is down, the commit is undone by a second transaction
and the caller gets QueueUnavailable (503). Stop and answer are shared by the browser and
the JSON API.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.errors import QueueUnavailable
from app.models import Run
from app.runs import lifecycle, service

QUEUE_DOWN_MESSAGE = "Nova could not reach its job queue (Redis), so no reply was started."

Undo = Callable[[AsyncSession], Awaitable[None]]


async def enqueue(ctx: AppContext, run_id: uuid.UUID, undo: Undo, step: str | None = None) -> None:
    """Hand a committed run to a worker; if the queue is down, undo in a new transaction and re-raise."""
    try:
        await ctx.jobs.enqueue_run(run_id, step=step)
    except QueueUnavailable:
        async with ctx.db.transaction() as session:
            await undo(session)
        raise


async def enqueue_new(ctx: AppContext, run_id: uuid.UUID) -> None:
    """Start a just-committed run; it fails with a clear reason if the queue is down."""

    async def fail(session: AsyncSession) -> None:
        await service.fail_queued(session, run_id, QUEUE_DOWN_MESSAGE)

    await enqueue(ctx, run_id, fail)


async def answer(ctx: AppContext, owner_id: uuid.UUID, run_id: uuid.UUID, value: Any) -> Run:
    """Record the user's answer to a paused run and queue it to resume on a worker."""
    async with ctx.db.transaction() as session:
        before = await service.record_answer(session, owner_id, run_id, value)

    async def still_waiting(session: AsyncSession) -> None:
        await service.restore_waiting(session, before)

    # A resume is a new job: the first one's id is still taken (arq keeps results a while).
    # Answering twice is refused by the status change, so the id only has to be new.
    await enqueue(ctx, run_id, still_waiting, step=f"resume-{uuid.uuid4().hex[:12]}")
    async with ctx.db.transaction() as session:
        return await service.get_run(session, owner_id, run_id)


async def stop(ctx: AppContext, owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    """Stop a run: an idle one ends here, a running one is told to stop by its worker."""
    async with ctx.db.transaction() as session:
        run = await service.get_run(session, owner_id, run_id)
        cancelled_here = await service.cancel_idle(session, run)
    if cancelled_here:
        await lifecycle.emit_terminal(ctx, run_id)
    elif not run.status.is_terminal:
        await ctx.events.request_cancel(str(run_id))
    async with ctx.db.transaction() as session:
        return await service.get_run(session, owner_id, run_id)
