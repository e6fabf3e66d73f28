"""Run rules: starting, one active run per thread, attempts, finishing exactly once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.history import Turn
from app.agents.runtime import AgentSpec, Usage
from app.context import AppContext
from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.events import RunEvent
from app.events.writer import EventWriter
from app.models import Agent, FinishReason, Message, MessageRole, Run, RunStatus, Thread, User
from app.queue import QueueUnavailable
from app.runs import repository
from app.runs.tool_assembly import AgentNode, AgentUnavailable, UserTooling, load_agent, load_user_tooling
from app.threads import service as threads

INTERRUPTED_MESSAGE = "Interrupted by a restart of Nova."
BUSY_MESSAGE = "Nova is still replying in this thread. Wait for the reply or press Stop."
TERMINAL_EVENT = {
    RunStatus.COMPLETED: "run.completed",
    RunStatus.FAILED: "run.failed",
    RunStatus.CANCELLED: "run.cancelled",
}


async def get_run(session: AsyncSession, owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    run = await repository.get_owned(session, owner_id, run_id)
    if run is None:
        raise NotFound(str(run_id))
    return run


async def active_run(session: AsyncSession, thread_id: uuid.UUID) -> Run | None:
    return await repository.active_for_thread(session, thread_id)


async def start_run(
    session: AsyncSession,
    owner_id: uuid.UUID,
    thread: Thread,
    agent: Agent | None,
    extra_instructions: str | None = None,
) -> Run:
    """Create the queued run (the caller commits, then enqueues)."""
    if agent is None:
        raise ValidationFailed({"agent": "Choose an agent to answer."})
    if await repository.active_for_thread(session, thread.id) is not None:
        raise Conflict(BUSY_MESSAGE)
    run = Run(owner_id=owner_id, thread_id=thread.id, agent_id=agent.id,
              extra_instructions=extra_instructions)  # fmt: skip
    session.add(run)
    try:
        await session.flush()
    except IntegrityError:
        # Lost a race with another submit; the partial unique index said no.
        raise Conflict(BUSY_MESSAGE) from None
    return run


async def fail_queued(session: AsyncSession, run_id: uuid.UUID, reason: str) -> None:
    await repository.transition(
        session, run_id, from_status=RunStatus.QUEUED,
        status=RunStatus.FAILED, error=reason, finished_at=utcnow(),
    )  # fmt: skip


async def cancel_idle(session: AsyncSession, run: Run) -> bool:
    """Cancel a run no worker is executing (queued, or paused for the user); False if one is."""
    moved = await repository.transition(
        session, run.id, from_status=run.status, status=RunStatus.CANCELLED, finished_at=utcnow(),
    )  # fmt: skip
    text = str((run.pending or {}).get("text", ""))
    if moved and text:
        session.add(repository.reply_message(run, text, FinishReason.CANCELLED, utcnow()))
    return moved


@dataclass(frozen=True)
class RunPlan:
    run_id: uuid.UUID
    attempt: int
    restarted: bool
    agent: AgentNode
    user: UserTooling
    turns: list[Turn]
    # Where the graph keeps its state, and the user's answer when resuming after a pause.
    graph_thread: str
    resume: Any = None
    interrupt_id: str | None = None
    text_before: str = ""

    @property
    def spec(self) -> AgentSpec:
        return self.agent.spec


class RunAbandoned(Exception):
    """The run failed before generation started; the message says why."""


async def begin_attempt(ctx: AppContext, run_id: uuid.UUID) -> RunPlan | None:
    """Claim the run for one attempt (or a resume) and gather what the model needs."""
    async with ctx.db.transaction() as session:
        run = await repository.get(session, run_id)
        if run is None or run.status.is_terminal or run.status is RunStatus.WAITING:
            return None
        pending = run.pending or {}
        resuming = run.status is RunStatus.QUEUED and "answer" in pending
        restarted = run.status is RunStatus.RUNNING
        attempt = run.attempts if resuming else run.attempts + 1
        claimed = await repository.transition(
            session, run.id, from_status=run.status, attempt=run.attempts,
            status=RunStatus.RUNNING, attempts=attempt, started_at=run.started_at or utcnow(), pending=None,
        )  # fmt: skip
        if not claimed:
            return None
    if attempt > ctx.settings.run_max_attempts:
        raise RunAbandoned(f"The run was interrupted {attempt - 1} times (its worker stopped); giving up.")
    async with ctx.db.transaction() as session:
        run = await repository.get(session, run_id)
        assert run is not None
        agent = await session.get(Agent, run.agent_id) if run.agent_id else None
        owner = await session.get(User, run.owner_id)
        if agent is None or owner is None:
            raise RunAbandoned("The agent of this run was deleted.")
        try:
            node = await load_agent(session, ctx, agent, depth=0, extra_instructions=run.extra_instructions)
        except AgentUnavailable as exc:
            raise RunAbandoned(str(exc)) from exc
        user = await load_user_tooling(session, ctx, run.owner_id, owner.timezone)
        history = await repository.conversation(session, run.thread_id)
        turns = [Turn(m.role.value, m.content) for m in history if m.run_id != run.id]
    return RunPlan(
        run_id=run_id, attempt=attempt, restarted=restarted, agent=node, user=user, turns=turns,
        graph_thread=str(pending.get("graph_thread")) if resuming else f"{run_id}:{attempt}",
        resume=pending.get("answer") if resuming else None,
        interrupt_id=pending.get("interrupt_id") if resuming else None,
        text_before=str(pending.get("text", "")) if resuming else "",
    )  # fmt: skip


async def pause(
    ctx: AppContext, plan: RunPlan, request: dict[str, Any], text: str, interrupt_id: str | None = None
) -> bool:
    """Park the run until the user answers; the graph's state stays in the checkpointer."""
    pending = {"request": request, "graph_thread": plan.graph_thread, "text": text, "interrupt_id": interrupt_id}
    until = utcnow() + timedelta(hours=ctx.settings.pause_hours)
    async with ctx.db.transaction() as session:
        return await repository.transition(
            session, plan.run_id, from_status=RunStatus.RUNNING, attempt=plan.attempt,
            status=RunStatus.WAITING, pending=pending, waiting_until=until,
        )  # fmt: skip


async def answer(ctx: AppContext, owner_id: uuid.UUID, run_id: uuid.UUID, value: Any) -> Run:
    """Record the user's answer and queue the run to resume on a worker."""
    # A resume is a new job: the first one's id is still taken (arq keeps results a while).
    # Answering twice is refused below by the status change, so the id only has to be new.
    step = f"resume-{uuid.uuid4().hex[:12]}"
    async with ctx.db.transaction() as session:
        run = await get_run(session, owner_id, run_id)
        if run.status is not RunStatus.WAITING or not run.pending:
            raise Conflict("This run is not waiting for an answer.")
        waiting_until, waiting = run.waiting_until, dict(run.pending)
        if run.waiting_until and run.waiting_until < utcnow():
            raise Conflict("This question has expired.")
        pending = dict(run.pending) | {"answer": value}
        moved = await repository.transition(
            session, run.id, from_status=RunStatus.WAITING, status=RunStatus.QUEUED, pending=pending,
            waiting_until=None,
        )  # fmt: skip
        if not moved:
            raise Conflict("This run is not waiting for an answer.")
    try:
        await ctx.jobs.enqueue_run(run_id, step=step)
    except QueueUnavailable:
        async with ctx.db.transaction() as session:  # still waiting: the user can answer again
            await repository.transition(session, run_id, from_status=RunStatus.QUEUED, status=RunStatus.WAITING,
                                        pending=waiting, waiting_until=waiting_until)  # fmt: skip
        raise
    async with ctx.db.transaction() as session:
        return await get_run(session, owner_id, run_id)


async def expire_paused(ctx: AppContext) -> list[uuid.UUID]:
    """Runs nobody answered in time fail with a clear message; returns their ids."""
    expired: list[uuid.UUID] = []
    message = f"No answer within {ctx.settings.pause_hours:g} hours; the run was stopped."
    async with ctx.db.transaction() as session:
        for run in await repository.with_status(session, [RunStatus.WAITING]):
            if run.waiting_until is None or run.waiting_until > utcnow():
                continue
            if await repository.transition(session, run.id, from_status=RunStatus.WAITING,
                                           status=RunStatus.FAILED, error=message, finished_at=utcnow()):  # fmt: skip
                session.add(repository.reply_message(run, message, FinishReason.ERROR, utcnow()))
                expired.append(run.id)
    return expired


@dataclass(frozen=True)
class Outcome:
    status: RunStatus
    content: str
    error: str | None = None
    usage: Usage | None = None
    first_token_at: datetime | None = None


async def finish(
    ctx: AppContext,
    run_id: uuid.UUID,
    attempt: int | None,
    outcome: Outcome,
    steps: list[Any] | None = None,
) -> bool:
    """Persist the reply and the final status once; False if another attempt owns the run."""
    finish_reason = {
        RunStatus.COMPLETED: FinishReason.STOP,
        RunStatus.CANCELLED: FinishReason.CANCELLED,
        RunStatus.FAILED: FinishReason.ERROR,
    }[outcome.status]
    async with ctx.db.transaction() as session:
        run = await repository.get(session, run_id)
        if run is None or run.status.is_terminal:
            return False
        now = utcnow()
        moved = await repository.transition(
            session, run_id, from_status=run.status,
            attempt=attempt if attempt is not None else run.attempts,
            status=outcome.status, error=outcome.error, finished_at=now,
            first_token_at=outcome.first_token_at,
            trace=steps or None,
            prompt_tokens=outcome.usage.prompt_tokens if outcome.usage else None,
            completion_tokens=outcome.usage.completion_tokens if outcome.usage else None,
        )  # fmt: skip
        if not moved:
            return False
        content = outcome.content if outcome.status is not RunStatus.FAILED else (outcome.error or "")
        # A stop before the first token leaves nothing to keep; anything else is shown.
        if content or outcome.status is not RunStatus.CANCELLED:
            session.add(repository.reply_message(run, content, finish_reason, now))
        thread = await session.get(Thread, run.thread_id)
        if thread is not None:
            thread.updated_at = now
        return True


def terminal_data(run: Run, message: Message | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": str(run.id),
        "thread_id": str(run.thread_id),
        "status": run.status.value,
    }
    if message is not None:
        data.update(message_id=str(message.id), content=message.content)
    if run.error:
        data["error"] = run.error
    if run.completion_tokens is not None:
        data["usage"] = {
            "prompt_tokens": run.prompt_tokens,
            "completion_tokens": run.completion_tokens,
        }
    return data


async def final_event(session: AsyncSession, run: Run) -> RunEvent:
    """The terminal event rebuilt from the database, for when the log has expired."""
    message = await repository.reply_for(session, run.id)
    return RunEvent(id=0, type=TERMINAL_EVENT[run.status], data=terminal_data(run, message))


async def recover_interrupted(ctx: AppContext) -> list[uuid.UUID]:
    """Embedded start-up: runs a dead process left running fail; queued ones run again."""
    async with ctx.db.transaction() as session:
        for run in await repository.with_status(session, [RunStatus.RUNNING]):
            await repository.transition(
                session, run.id, from_status=RunStatus.RUNNING,
                status=RunStatus.FAILED, error=INTERRUPTED_MESSAGE, finished_at=utcnow(),
            )  # fmt: skip
            session.add(repository.reply_message(run, INTERRUPTED_MESSAGE, FinishReason.ERROR, utcnow()))
        queued = [run.id for run in await repository.with_status(session, [RunStatus.QUEUED])]
    return queued


def user_message(thread: Thread, content: str, agent: Agent | None) -> Message:
    return Message(thread_id=thread.id, role=MessageRole.USER, content=content,
                   agent_id=agent.id if agent else None)  # fmt: skip


@dataclass(frozen=True)
class Submitted:
    message: Message
    run: Run


async def submit_message(
    ctx: AppContext,
    owner_id: uuid.UUID,
    thread_id: uuid.UUID,
    content: str,
    agent_ref: str | None,
    extra_instructions: str | None = None,
) -> Submitted:
    """Store the message and its run, commit, and only then hand the run to a worker."""
    async with ctx.db.transaction() as session:
        thread = await threads.get_thread(session, owner_id, thread_id)
        content = threads.clean_content(content)
        agent = await threads.agent_for_reply(session, owner_id, thread, agent_ref)
        if agent is None:
            raise ValidationFailed({"agent": "Set up an agent first (Agents page)."})
        message = await threads.post_user_message(session, thread, content, agent)
        run = await start_run(session, owner_id, thread, agent, extra_instructions)
    try:
        await ctx.jobs.enqueue_run(run.id)
    except QueueUnavailable:
        async with ctx.db.transaction() as session:
            await fail_queued(session, run.id, QUEUE_DOWN_MESSAGE)
        raise
    return Submitted(message=message, run=run)


QUEUE_DOWN_MESSAGE = "Nova could not reach its job queue (Redis), so no reply was started."


async def emit_terminal(ctx: AppContext, run_id: uuid.UUID, writer: EventWriter | None = None) -> None:
    """Publish the final event from what was committed, then let the log expire."""
    async with ctx.db.transaction() as session:
        run = await session.get(Run, run_id)
        reply = await repository.reply_for(session, run_id)
    assert run is not None and run.status.is_terminal
    if writer is None:
        writer = EventWriter(ctx.events, str(run_id), await ctx.events.last_id(str(run_id)))
    await writer.emit(TERMINAL_EVENT[run.status], terminal_data(run, reply))
    await ctx.events.finish(str(run_id))


async def request_cancel(ctx: AppContext, owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    """Stop a run: a queued one ends here, a running one is told to stop by its worker."""
    async with ctx.db.transaction() as session:
        run = await get_run(session, owner_id, run_id)
        idle = run.status in (RunStatus.QUEUED, RunStatus.WAITING)
        cancelled_here = idle and await cancel_idle(session, run)
    if cancelled_here:
        await emit_terminal(ctx, run_id)
    elif not run.status.is_terminal:
        await ctx.events.request_cancel(str(run_id))
    async with ctx.db.transaction() as session:
        return await get_run(session, owner_id, run_id)
