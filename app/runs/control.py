"""The web edge's operations on runs that span more than one transaction.

A run is handed to the queue only after the transaction that created it committed (a
worker must find it); if the queue is down, the commit is undone by a second transaction
and the caller gets QueueUnavailable (503). New runs go through app/runs/admission.py
(each user's turn). Stop and answer are shared by the browser and the JSON API; `stop_all` ends a
suspended user's runs.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.errors import RateLimited
from app.models import Run
from app.runs import admission, lifecycle, service


async def admit_start(ctx: AppContext, owner_id: uuid.UUID) -> None:
    """Count a run about to start against its owner's limit; RateLimited (429) once it is spent.

    Called by every edge that starts a run (the browser, /api/v1, /v1, Retry), before the
    run exists, and never for a replayed request.
    """
    decision = await ctx.run_limiter.try_start(owner_id)
    if not decision.allowed:
        raise RateLimited(
            f"You started {decision.limit} replies in the last {decision.window_seconds} s; "
            f"the next can start in {max(1, decision.reset_seconds)} s.",
            decision.headers(),
        )


async def start(ctx: AppContext, run: Run) -> None:
    """Start a just-committed run, or let it wait for its owner's turn.

    Raises QueueUnavailable (the run failed with a clear reason) if the queue is down.
    """
    await admission.dispatch(ctx, run.owner_id)


async def answer(ctx: AppContext, owner_id: uuid.UUID, run_id: uuid.UUID, value: Any) -> Run:
    """Record the user's answer to a paused run and queue it to resume on a worker."""
    async with ctx.db.transaction() as session:
        before = await service.record_answer(session, owner_id, run_id, value)

    async def still_waiting(session: AsyncSession) -> None:
        await service.restore_waiting(session, before)

    # A resume is a new job: the first one's id is still taken (arq keeps results a while).
    # Answering twice is refused by the status change, so the id only has to be new.
    await admission.enqueue(ctx, run_id, still_waiting, step=f"resume-{uuid.uuid4().hex[:12]}")
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


async def stop_all(ctx: AppContext, owner_id: uuid.UUID) -> None:
    """Stop every active run of a user who was just suspended (call after that commit).

    The idle ones end together in one transaction, so that ending one does not hand the
    owner's next waiting run to the queue; running ones are told to stop (a worker checks
    every 0.2 s). One the queue hands to a worker meanwhile is told to stop too.
    """
    async with ctx.db.transaction() as session:
        runs = await service.active_runs_of(session, owner_id)
        ended = {run.id for run in runs if await service.cancel_idle(session, run)}
    for run in runs:
        if run.id in ended:
            await lifecycle.emit_terminal(ctx, run.id)
        else:
            await ctx.events.request_cancel(str(run.id))
