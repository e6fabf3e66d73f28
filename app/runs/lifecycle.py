"""The job edge of a run: the worker's transactions, and the final event published after each commit."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from app.context import AppContext
from app.errors import QueueUnavailable
from app.events.writer import EventWriter
from app.metrics import observe as metrics
from app.models import Run, RunStatus
from app.runs import admission, repository, service, titles, trace
from app.runs.endings import BY_STATUS
from app.runs.service import Outcome

if TYPE_CHECKING:
    from app.runs.plan import RunPlan

log = logging.getLogger(__name__)


async def begin_attempt(ctx: AppContext, run_id: uuid.UUID) -> RunPlan | None:
    """Claim the run for one attempt (or a resume) and gather what the model needs."""
    # The plan builds the run's tools (langchain): imported where runs execute, not on the web.
    from app.runs.plan import RunAbandoned, load_plan

    # The claim writes, so it commits at once: a write transaction kept open over the plan's
    # reads would hold SQLite's write lock, and a run cancelled inside it (shutdown) keeps it.
    async with ctx.db.transaction() as session:
        claim = await service.claim_attempt(session, run_id)
    if claim is None:
        return None
    if claim.attempt == 1 and not claim.resuming:
        metrics.run_started(claim.run.created_at, claim.run.started_at)
    if claim.attempt > ctx.settings.run_max_attempts:
        raise RunAbandoned(f"The run was interrupted {claim.attempt - 1} times (its worker stopped); giving up.")
    async with ctx.db.transaction() as session:
        return await load_plan(session, ctx, claim)


async def with_inactive_owner(ctx: AppContext, run_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    async with ctx.db.transaction() as session:
        return await repository.with_inactive_owner(session, run_ids)


async def save_partial_text(ctx: AppContext, plan: RunPlan, text: str) -> None:
    async with ctx.db.transaction() as session:
        await repository.save_partial_text(session, plan.run_id, plan.attempt, text or None)


async def pause(ctx: AppContext, plan: RunPlan, request: dict[str, Any], text: str, interrupt_id: str | None) -> bool:
    pending = {"request": request, "graph_thread": plan.graph_thread, "text": text, "interrupt_id": interrupt_id}
    async with ctx.db.transaction() as session:
        return await service.pause(session, plan.run_id, plan.attempt, pending, ctx.settings.pause_hours)


async def finish(
    ctx: AppContext, run_id: uuid.UUID, attempt: int | None, outcome: Outcome, writer: EventWriter | None = None
) -> None:
    """Keep the outcome and its trace, then tell the followers; a no-op if another attempt owns the run."""
    steps = trace.from_events(await ctx.events.read_after(str(run_id), 0))
    async with ctx.db.transaction() as session:
        finished = await service.finish(session, run_id, attempt, outcome, steps)
    if not finished:
        return
    if outcome.status is RunStatus.FAILED:
        # Run id, attempt, kind and the sentence the user sees: never message text or secrets.
        log.warning("run %s failed (attempt %s, %s): %s", run_id, attempt, outcome.cause, outcome.error)
    await emit_terminal(ctx, run_id, writer)
    await titles.after_reply(ctx, run_id)  # a new thread's title: after the reply's end, never before


async def emit_terminal(ctx: AppContext, run_id: uuid.UUID, writer: EventWriter | None = None) -> None:
    """Publish the final event from what was committed, then let the log expire."""
    async with ctx.db.transaction() as session:
        run = await session.get(Run, run_id)
        reply = await repository.reply_for(session, run_id)
    assert run is not None and run.status.is_terminal
    # Here, where every run's end passes once (finished, stopped while waiting, expired).
    metrics.run_ended(run.status.value, run.agent_id, run.started_at, run.finished_at, run.first_token_at,
                      run.trace or [])  # fmt: skip
    if writer is None:
        writer = EventWriter(ctx.events, str(run_id), await ctx.events.last_id(str(run_id)))
    await writer.emit(BY_STATUS[run.status].event, service.terminal_data(run, reply))
    await ctx.events.finish(str(run_id))
    await _next_turn(ctx, run.owner_id)


async def _next_turn(ctx: AppContext, owner_id: uuid.UUID) -> None:
    """A run ended: the owner's next waiting run may start."""
    try:
        await admission.dispatch(ctx, owner_id)
    except QueueUnavailable:
        log.warning("cannot start the next waiting run of %s: the job queue is down", owner_id)


async def expire_paused(ctx: AppContext) -> None:
    """Fail paused runs nobody answered in time, telling any follower."""
    async with ctx.db.transaction() as session:
        expired = await service.expire_paused(session, ctx.settings.pause_hours)
    for run_id in expired:
        await emit_terminal(ctx, run_id)
    await admission.sweep(ctx)


async def recover_interrupted(ctx: AppContext) -> None:
    """Embedded start-up: this process was the only runner, so what it was running is lost."""
    async with ctx.db.transaction() as session:
        queued = await service.fail_interrupted(session)
    for run in queued:
        if run.dispatched_at is not None:
            await ctx.jobs.enqueue_run(run.id)
    await admission.sweep(ctx)
