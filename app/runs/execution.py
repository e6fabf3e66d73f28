"""One attempt at a run: stream the reply and its steps as events, watch for Stop,
pause for the user when a tool asks, and persist the outcome once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import suppress
from datetime import datetime

from app import logs, request_ids
from app.agents.errors import ProviderFailure
from app.agents.runtime import GraphSession, saved_reply_text, stream_reply
from app.agents.spec import Paused, Usage
from app.context import AppContext
from app.db import utcnow
from app.events import EventType
from app.events.writer import EventWriter
from app.metrics import observe as metrics
from app.models import RunStatus
from app.runs import lifecycle, partial, summarizing
from app.runs.plan import RunAbandoned, RunPlan
from app.runs.service import Outcome
from app.runs.stop_watch import CANCEL_POLL_SECONDS, stop_watch
from app.runs.tool_assembly import build_tools

log = logging.getLogger(__name__)

WORKER_STOPPED = "The worker running it stopped."


async def execute_run(ctx: AppContext, run_id: uuid.UUID) -> None:
    logs.run_id.set(str(run_id))  # this job's log lines name their run
    window = ctx.settings.stream_coalesce_ms / 1000
    writer = EventWriter(ctx.events, str(run_id), await ctx.events.last_id(str(run_id)), window)
    try:
        plan = await lifecycle.begin_attempt(ctx, run_id)
    except RunAbandoned as exc:
        await lifecycle.finish(
            ctx, run_id, None, Outcome(RunStatus.FAILED, "", error=str(exc), cause="abandoned"), writer
        )
        return
    if plan is None:
        return
    if plan.request_id:  # this job's log lines carry the id of the request that started the run
        request_ids.current.set(plan.request_id)
    logs.user_id.set(str(plan.user.owner_id))
    kind = EventType.RUN_RESUMED if plan.resume is not None else EventType.RUN_STARTED
    await writer.emit(kind, {"run_id": str(run_id), "attempt": plan.attempt})
    progress = _Progress(plan.text_before)
    result = await _generate_until_done(ctx, writer, plan, progress)
    if isinstance(result, Paused):
        if await lifecycle.pause(ctx, plan, result.request, "".join(progress.parts), result.interrupt_id):
            await writer.emit(EventType.RUN_WAITING, result.request)
        return
    await lifecycle.finish(ctx, run_id, plan.attempt, result, writer)


class _Progress:
    def __init__(self, text_before: str = "") -> None:
        self.parts: list[str] = [text_before] if text_before else []
        self.first_token_at: datetime | None = None
        self.usage: Usage | None = None

    def text(self) -> str:
        return "".join(self.parts)

    def outcome(self, status: RunStatus, error: str | None = None, cause: str | None = None) -> Outcome:
        return Outcome(status, self.text(), error=error, usage=self.usage, cause=cause,
                       first_token_at=self.first_token_at)  # fmt: skip


async def _generate_until_done(
    ctx: AppContext, writer: EventWriter, plan: RunPlan, progress: _Progress
) -> Outcome | Paused:
    """Generation in a task, cancelled by Stop or the run timeout; partial text is kept."""
    generation = asyncio.create_task(_generate_with_retries(ctx, writer, plan, progress))
    stopped = asyncio.Event()
    watcher = asyncio.create_task(_watch_for_stop(ctx, str(plan.run_id), generation, stopped))
    saver = asyncio.create_task(partial.keep_saving(ctx, plan, progress.text)) if ctx.settings.embedded else None
    try:
        async with asyncio.timeout(ctx.settings.run_timeout_seconds):
            return await generation
    except TimeoutError:
        limit = ctx.settings.run_timeout_seconds
        return progress.outcome(RunStatus.FAILED, f"The reply took longer than {limit} s and was stopped.", "timeout")
    except asyncio.CancelledError:
        if stopped.is_set():
            return progress.outcome(RunStatus.CANCELLED)
        raise
    finally:
        for task in (watcher, saver):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await writer.flush()


async def _generate_with_retries(
    ctx: AppContext, writer: EventWriter, plan: RunPlan, progress: _Progress
) -> Outcome | Paused:
    retries = ctx.settings.provider_retries
    provider = plan.spec.provider
    # Asked once, before anything calls the provider (a summary does): a paused one fails the run
    # at once. An admitted run keeps its retries; only its final failure counts against the provider.
    ticket = await ctx.breaker.admit(provider.provider_id, provider.provider_name)
    if ticket.refusal is not None:
        return progress.outcome(RunStatus.FAILED, ticket.refusal, "provider:circuit_open")
    tools = build_tools(ctx, plan.agent, plan.user, plan.run_id, writer.emit)
    # Every step is checkpointed: a retry or a new worker goes on from the last saved step
    # instead of repeating it (its tool calls included).
    graph = GraphSession(await ctx.checkpointer(), plan.graph_thread)
    continuing = plan.restarted and await _start_from_saved_step(graph, writer, plan, progress, WORKER_STOPPED, True)
    # Only a fresh start sends the history; a resume or a saved step has it in the checkpoint.
    fresh = plan.resume is None and not continuing
    history = await summarizing.prepare(ctx, plan, writer.emit) if fresh else summarizing.History(None, plan.turns)
    for attempt in range(retries + 1):
        try:
            async for item in stream_reply(
                plan.spec, history.turns, tools=tools, session=graph, emit=writer.emit, summary=history.summary,
                resume=None if continuing else plan.resume, interrupt_id=plan.interrupt_id,
                continue_from_checkpoint=continuing,
            ):  # fmt: skip
                if isinstance(item, Paused):
                    await ctx.breaker.succeeded(ticket)
                    return item
                if isinstance(item, Usage):
                    progress.usage = item
                    continue
                progress.first_token_at = progress.first_token_at or utcnow()
                progress.parts.append(item)
                writer.delta(item)
            # Reported once the reply is done, never between the provider's first token and the reader.
            await ctx.breaker.succeeded(ticket)
            return progress.outcome(RunStatus.COMPLETED)
        except ProviderFailure as failure:
            metrics.provider_failed(failure.kind)
            if not failure.transient or attempt == retries:
                await ctx.breaker.failed(ticket, failure.kind)
                reason = str(failure.after_retries(attempt))
                return progress.outcome(RunStatus.FAILED, reason, f"provider:{failure.kind}")
            log.info("run %s: %s; retrying", plan.run_id, failure)
            # Said before the backoff, so followers are not left with a silent reply for seconds.
            retrying = {"attempt": attempt + 2, "of": retries + 1, "reason": str(failure)}
            await writer.emit(EventType.RUN_RETRYING, retrying)
            await asyncio.sleep(ctx.settings.provider_retry_base_seconds * 2**attempt)
            continuing = await _start_from_saved_step(graph, writer, plan, progress, str(failure))
    raise AssertionError("unreachable")


async def _start_from_saved_step(
    graph: GraphSession, writer: EventWriter, plan: RunPlan, progress: _Progress, reason: str, announce: bool = False
) -> bool:
    """Rewind the reply's text to the last saved step; False if nothing was saved (start afresh)."""
    saved = await saved_reply_text(graph)
    text = saved if saved is not None else plan.text_before
    if announce or "".join(progress.parts) != text:
        progress.parts = [text] if text else []
        await writer.discard()
        await writer.emit(EventType.RUN_RESTARTED, {"attempt": plan.attempt, "reason": reason, "text": text})
    return saved is not None


async def _watch_for_stop(
    ctx: AppContext, run_id: str, generation: asyncio.Task[Outcome | Paused], stopped: asyncio.Event
) -> None:
    async with stop_watch(ctx).watching(run_id) as stop:
        ended = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([ended, generation], return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
        while not generation.done():
            stopped.set()
            generation.cancel()  # again until it ends: a library may swallow one cancellation
            await asyncio.wait([generation], timeout=CANCEL_POLL_SECONDS)
