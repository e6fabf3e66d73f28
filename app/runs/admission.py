"""Whose run goes to the queue next: at most N executing runs per user, the rest wait.

A run is created queued but not dispatched. `dispatch` hands the owner's oldest waiting
runs to the job queue while fewer than `NOVA_MAX_ACTIVE_RUNS_PER_USER` of theirs are
queued or running; every run that ends calls it again for its owner. A flood from one
user therefore waits in the database, not in the shared queue ahead of everyone else.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.db import utcnow
from app.errors import QUEUE_DOWN_MESSAGE, QueueUnavailable
from app.runs import repository, service

log = logging.getLogger(__name__)

# A dispatched run no worker claimed for this long is handed over again (the job was lost).
REDISPATCH_AFTER = timedelta(minutes=2)

_owner_locks: dict[uuid.UUID, asyncio.Lock] = {}


async def dispatch(ctx: AppContext, owner_id: uuid.UUID) -> list[uuid.UUID]:
    """Hand the owner's waiting runs to the queue up to their limit; returns the runs handed over.

    If the queue is down, those runs fail with a clear reason and QueueUnavailable is raised.
    """
    lock = _owner_locks.setdefault(owner_id, asyncio.Lock())
    async with lock:  # one process; the row lock below covers the others
        async with ctx.db.transaction() as session:
            await repository.lock_owner(session, owner_id)
            active = await repository.count_dispatched(session, owner_id)
            free = ctx.settings.max_active_runs_per_user - active
            admitted = list(await repository.held(session, owner_id, free)) if free > 0 else []
            for run in admitted:
                run.dispatched_at = utcnow()
        await _enqueue_all(ctx, [run.id for run in admitted])
    return [run.id for run in admitted]


Undo = Callable[[AsyncSession], Awaitable[None]]


async def enqueue(ctx: AppContext, run_id: uuid.UUID, undo: Undo, step: str | None = None) -> None:
    """Hand a committed run to a worker; if the queue is down, undo in a new transaction and re-raise."""
    try:
        await ctx.jobs.enqueue_run(run_id, step=step)
    except QueueUnavailable:
        async with ctx.db.transaction() as session:
            await undo(session)
        raise


async def _enqueue_all(ctx: AppContext, run_ids: list[uuid.UUID]) -> None:
    for position, run_id in enumerate(run_ids):

        async def fail_the_rest(session: AsyncSession, unsent: list[uuid.UUID] = run_ids[position:]) -> None:
            for failed in unsent:
                await service.fail_queued(session, failed, QUEUE_DOWN_MESSAGE)

        await enqueue(ctx, run_id, fail_the_rest)


async def sweep(ctx: AppContext) -> None:
    """Periodic repair: start waiting runs whose owner has room, re-send runs whose job was lost."""
    async with ctx.db.transaction() as session:
        owners = await repository.owners_with_held_runs(session)
        stale = [run.id for run in await repository.dispatched_before(session, utcnow() - REDISPATCH_AFTER)]
    for run_id in stale:
        await ctx.jobs.enqueue_run(run_id)  # the job id is the run's: a job still queued is not doubled
    for owner_id in owners:
        try:
            await dispatch(ctx, owner_id)
        except QueueUnavailable:
            log.warning("cannot dispatch waiting runs: the job queue is down")
            return
