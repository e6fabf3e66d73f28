"""The run state machine: every function takes the caller's session and never commits.

queued → running → completed | failed | cancelled, with running ⇄ waiting (paused for the
user) and queued → running again when a worker dies. Each move is a conditional update
(`repository.transition`), so two attempts can never both finish a run.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import request_ids
from app.agents.spec import Usage
from app.db import utcnow
from app.errors import Conflict, NotFound, ThreadBusy
from app.events import RunEvent
from app.models import FinishReason, Message, Run, RunStatus, Thread
from app.pagination import Keyset, Page, page_of
from app.runs import repository
from app.runs.endings import BY_STATUS

INTERRUPTED_MESSAGE = "Interrupted by a restart of Nova."
BUSY_MESSAGE = "Nova is still replying in this thread. Wait for the reply or press Stop."
NOT_WAITING_MESSAGE = "This run is not waiting for an answer."


def api_busy_message(run_id: uuid.UUID | None) -> str:
    """The APIs' words for a busy thread: what an integration can do, with the run's real id."""
    if run_id is None:
        return "Nova is still replying in this thread: wait for that run to end, or cancel it."
    return (
        f"Nova is still replying in this thread (run {run_id}): wait for it to end, "
        f"or cancel it with POST /api/v1/runs/{run_id}/cancel."
    )


async def get_run(session: AsyncSession, owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    run = await repository.get_owned(session, owner_id, run_id)
    if run is None:
        raise NotFound(str(run_id))
    return run


async def runs_after(
    session: AsyncSession, owner_id: uuid.UUID, cursor: str | None, limit: int,
    thread_id: uuid.UUID | None = None, status: RunStatus | None = None,
) -> Page[Run]:  # fmt: skip
    """A page of the owner's runs, newest first, optionally of one thread or in one status."""
    after = Keyset.decode(cursor) if cursor else None
    rows = await repository.owned_after(session, owner_id, after, limit, thread_id, status)
    return page_of(rows, limit, lambda run: (run.created_at, run.id))


async def active_run(session: AsyncSession, thread_id: uuid.UUID) -> Run | None:
    return await repository.active_for_thread(session, thread_id)


async def active_runs_of(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[Run]:
    return await repository.active_of_owner(session, owner_id)


async def start_run(
    session: AsyncSession,
    owner_id: uuid.UUID,
    thread_id: uuid.UUID,
    agent_id: uuid.UUID,
    extra_instructions: str | None = None,
    model: str | None = None,
    options: dict[str, Any] | None = None,
) -> Run:
    """Create the queued run; the edge commits, then enqueues it (app/runs/dispatch.py).
    `model` replaces the agent's model for this run only."""
    if (active := await repository.active_for_thread(session, thread_id)) is not None:
        raise ThreadBusy(BUSY_MESSAGE, active.id)
    run = Run(
        owner_id=owner_id, thread_id=thread_id, agent_id=agent_id, extra_instructions=extra_instructions, model=model,
        request_id=request_ids.current.get(), options=options or None,
    )  # fmt: skip
    session.add(run)
    try:
        await session.flush()
    except IntegrityError:
        # Lost a race with another submit; the partial unique index said no.
        raise ThreadBusy(BUSY_MESSAGE, None) from None
    return run


async def fail_queued(session: AsyncSession, run_id: uuid.UUID, reason: str) -> None:
    await repository.transition(
        session, run_id, from_status=RunStatus.QUEUED, status=RunStatus.FAILED, error=reason, finished_at=utcnow()
    )


async def cancel_idle(session: AsyncSession, run: Run) -> bool:
    """Cancel a run no worker is executing (queued, or paused for the user); False if one is."""
    if run.status not in (RunStatus.QUEUED, RunStatus.WAITING):
        return False
    moved = await repository.transition(
        session, run.id, from_status=run.status, status=RunStatus.CANCELLED, finished_at=utcnow()
    )
    text = str((run.pending or {}).get("text", ""))
    if moved and text:
        session.add(repository.reply_message(run, text, FinishReason.CANCELLED, utcnow()))
    return moved


@dataclass(frozen=True)
class Claim:
    """One attempt at a run (or its resume after an answer), as the worker took it."""

    run: Run
    attempt: int
    restarted: bool
    pending: dict[str, Any]

    @property
    def resuming(self) -> bool:
        return "answer" in self.pending


async def claim_attempt(session: AsyncSession, run_id: uuid.UUID) -> Claim | None:
    """Move a queued (or orphaned running) run to running; None if there is nothing to do."""
    run = await repository.get(session, run_id)
    if run is None or run.status.is_terminal or run.status is RunStatus.WAITING:
        return None
    pending = dict(run.pending or {})
    resuming = run.status is RunStatus.QUEUED and "answer" in pending
    # Still running: its worker died mid-attempt. (Read before the update below changes `run`.)
    restarted = run.status is RunStatus.RUNNING
    attempt = run.attempts if resuming else run.attempts + 1
    claimed = await repository.transition(
        session, run.id, from_status=run.status, attempt=run.attempts,
        status=RunStatus.RUNNING, attempts=attempt, started_at=run.started_at or utcnow(), pending=None,
    )  # fmt: skip
    if not claimed:
        return None
    return Claim(run, attempt, restarted=restarted, pending=pending if resuming else {})


async def pause(session: AsyncSession, run_id: uuid.UUID, attempt: int, pending: dict[str, Any], hours: float) -> bool:
    """Park the run until the user answers; the graph's state stays in the checkpointer."""
    until = utcnow() + timedelta(hours=hours)
    return await repository.transition(
        session, run_id, from_status=RunStatus.RUNNING, attempt=attempt,
        status=RunStatus.WAITING, pending=pending, waiting_until=until,
    )  # fmt: skip


@dataclass(frozen=True)
class Waiting:
    """A paused run's state before an answer was recorded, to restore if it cannot be queued."""

    run_id: uuid.UUID
    pending: dict[str, Any]
    waiting_until: datetime | None


async def record_answer(session: AsyncSession, owner_id: uuid.UUID, run_id: uuid.UUID, value: Any) -> Waiting:
    """Store the user's answer and queue the run to resume."""
    run = await get_run(session, owner_id, run_id)
    if run.status is not RunStatus.WAITING or not run.pending:
        raise Conflict(NOT_WAITING_MESSAGE)
    if run.waiting_until and run.waiting_until < utcnow():
        raise Conflict("This question has expired.")
    before = Waiting(run.id, dict(run.pending), run.waiting_until)
    moved = await repository.transition(
        session, run.id, from_status=RunStatus.WAITING, status=RunStatus.QUEUED,
        pending=before.pending | {"answer": value}, waiting_until=None,
    )  # fmt: skip
    if not moved:
        raise Conflict(NOT_WAITING_MESSAGE)
    return before


async def restore_waiting(session: AsyncSession, before: Waiting) -> None:
    """Undo `record_answer` (the queue was down): the user can answer again."""
    await repository.transition(
        session, before.run_id, from_status=RunStatus.QUEUED, status=RunStatus.WAITING,
        pending=before.pending, waiting_until=before.waiting_until,
    )  # fmt: skip


async def expire_paused(session: AsyncSession, pause_hours: float) -> list[uuid.UUID]:
    """Runs nobody answered in time fail with a clear message; returns their ids."""
    expired: list[uuid.UUID] = []
    message = f"No answer within {pause_hours:g} hours; the run was stopped."
    for run in await repository.with_status(session, [RunStatus.WAITING]):
        if run.waiting_until is None or run.waiting_until > utcnow():
            continue
        if await repository.transition(
            session, run.id, from_status=RunStatus.WAITING, status=RunStatus.FAILED, error=message, finished_at=utcnow()
        ):
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
    # For the worker's log only: what kind of failure (never shown, never secret).
    cause: str | None = None


async def finish(
    session: AsyncSession,
    run_id: uuid.UUID,
    attempt: int | None,
    outcome: Outcome,
    steps: list[Any] | None = None,
) -> bool:
    """Persist the reply and the final status once; False if another attempt owns the run."""
    run = await repository.get(session, run_id)
    if run is None or run.status.is_terminal:
        return False
    now = utcnow()
    usage = outcome.usage
    moved = await repository.transition(
        session, run_id, from_status=run.status,
        attempt=attempt if attempt is not None else run.attempts,
        status=outcome.status, error=outcome.error, finished_at=now,
        first_token_at=outcome.first_token_at, trace=steps or None, partial_text=None,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
    )  # fmt: skip
    if not moved:
        return False
    content = outcome.content if outcome.status is not RunStatus.FAILED else (outcome.error or "")
    # A stop before the first token leaves nothing to keep; anything else is shown.
    if content or outcome.status is not RunStatus.CANCELLED:
        session.add(repository.reply_message(run, content, BY_STATUS[outcome.status].finish_reason, now))
    thread = await session.get(Thread, run.thread_id)
    if thread is not None:
        thread.updated_at = now
    return True


def terminal_data(run: Run, message: Message | None) -> dict[str, Any]:
    data: dict[str, Any] = {"run_id": str(run.id), "thread_id": str(run.thread_id), "status": run.status.value}
    if message is not None:
        data.update(message_id=str(message.id), content=message.content)
        if message.finish_reason is not None:
            data["finish_reason"] = message.finish_reason.value  # "interrupted" is no status's own
    if run.error:
        data["error"] = run.error
    if run.completion_tokens is not None:
        data["usage"] = {"prompt_tokens": run.prompt_tokens, "completion_tokens": run.completion_tokens}
    return data


async def final_event(session: AsyncSession, run: Run) -> RunEvent:
    """The terminal event rebuilt from the database (event id 0: not from the log)."""
    message = await repository.reply_for(session, run.id)
    return RunEvent(id=0, type=BY_STATUS[run.status].event, data=terminal_data(run, message))


async def fail_interrupted(session: AsyncSession) -> Sequence[Run]:
    """Embedded start-up: runs a dead process left running fail; returns the queued ones to run again.

    The text a run had written (its last save) is kept as an interrupted reply, the way Stop
    keeps it; a run that had written nothing says why it ended.
    """
    for run in await repository.with_status(session, [RunStatus.RUNNING]):
        text = run.partial_text
        await repository.transition(
            session, run.id, from_status=RunStatus.RUNNING,
            status=RunStatus.FAILED, error=INTERRUPTED_MESSAGE, finished_at=utcnow(), partial_text=None,
        )  # fmt: skip
        if text:
            session.add(repository.reply_message(run, text, FinishReason.INTERRUPTED, utcnow()))
        else:
            session.add(repository.reply_message(run, INTERRUPTED_MESSAGE, FinishReason.ERROR, utcnow()))
    return await repository.with_status(session, [RunStatus.QUEUED])
