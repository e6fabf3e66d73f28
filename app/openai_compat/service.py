"""Asking an agent from outside the browser, shared by /v1 and /mcp (app/mcp_endpoint).

Either way it is an ordinary run: a message posted to a new or named thread, answered by a
worker, streamed from the run's events. This module posts the question (in the caller's
transaction; the edge commits, then starts the run), follows the events to the run's
ending, and words the endings an integration cannot act on by itself: a question or an
approval that only the user in Nova can give, and a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.context import AppContext
from app.events import EventType, RunEvent
from app.runs import control
from app.threads import service as threads

TextSink = Callable[[str], Awaitable[None]]


async def post_question(
    session: AsyncSession,
    ctx: AppContext,
    user_id: uuid.UUID,
    agent: str,
    prompt: str,
    thread_id: uuid.UUID | None,
    *,
    history: Sequence[tuple[str, str]] = (),
    system: str | None = None,
    options: dict[str, Any] | None = None,
) -> threads.Posted:
    """Post `prompt` for the agent (a slug) to the user's thread `thread_id`, or to a new thread
    that first receives the `history` sent along; counted against the user's run limit."""
    if thread_id is not None:
        thread = await threads.get_thread(session, user_id, thread_id)  # another user's: NotFound
    else:
        thread = await threads.create_thread(session, user_id, prompt.splitlines()[0] if prompt else "")
        await threads.import_history(session, thread, history)
    posted = await threads.post_message(
        session, ctx.settings, user_id, thread.id, prompt, agent, extra_instructions=system, options=options
    )
    await control.admit_start(ctx, user_id)
    return posted


class Ending(StrEnum):
    COMPLETED = "completed"
    WAITING = "waiting"  # a question or an approval for the user in Nova
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped (from the thread page, the API, or by this caller)


@dataclass(frozen=True)
class Outcome:
    ending: Ending
    event: RunEvent

    @property
    def content(self) -> str:
        """The reply as stored (a stopped run keeps what it had said)."""
        return str(self.event.data.get("content", ""))


_ENDINGS: dict[str, Ending] = {
    EventType.RUN_WAITING: Ending.WAITING,
    EventType.RUN_FAILED: Ending.FAILED,
    EventType.RUN_COMPLETED: Ending.COMPLETED,
    EventType.RUN_CANCELLED: Ending.CANCELLED,
}


async def follow_to_ending(
    events: AsyncIterator[RunEvent], on_text: TextSink | None = None, on_restart: TextSink | None = None
) -> Outcome | None:
    """Read a run's events until it ends or waits for the user (None: the log ended first).

    `on_text` gets each piece of the reply as it streams; `on_restart` the text a reply
    starts over from after a failed attempt."""
    try:
        async for event in events:
            if event.type == EventType.MESSAGE_DELTA and on_text is not None:
                await on_text(str(event.data.get("text", "")))
            elif event.type == EventType.RUN_RESTARTED and on_restart is not None:
                await on_restart(str(event.data.get("text", "")))
            elif event.type in _ENDINGS:
                return Outcome(_ENDINGS[event.type], event)
        return None
    finally:
        close = getattr(events, "aclose", None)  # the log's listener goes as soon as the outcome is known
        if close is not None:
            await close()


def waiting_text(run_id: str, event: RunEvent, link: str) -> str:
    """What an integration is told when the agent waits for the user (a question or an approval)."""
    data = event.data
    answer_api = f"POST /api/v1/runs/{run_id}/answer"
    if data.get("kind") == "approval":
        step = data.get("summary") or data.get("tool") or "a step"
        return (
            f"The agent is waiting for the user in Nova to approve a step: {step}. "
            f"Approve or decline it at {link} (or with {answer_api}); the reply continues in that thread."
        )
    question = data.get("question")
    asked = f": it asks “{question}”" if isinstance(question, str) and question else ""
    choices = [str(choice) for choice in data.get("choices") or []]
    offered = f" (choices: {', '.join(choices)})" if choices else ""
    return (
        f"The agent is waiting for the user in Nova{asked}{offered}. "
        f"Answer it at {link} (or with {answer_api}); the reply continues in that thread."
    )


def failed_text(run_id: str, event: RunEvent, link: str) -> str:
    return f"{event.data.get('error') or 'The run failed.'} (run {run_id}; the thread: {link})"
