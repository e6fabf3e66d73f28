"""Before a run's first model call: a history longer than the model's window gets its oldest
turns summarized (app/agents/summaries.py), and the summary is kept for later runs.

Once per cut: a summary ends at a message of the branch (models/summary.py), and a later run
of any branch through that message starts from it; only turns that fall out of the window
since are added to it (the summary so far and those turns, into a new one). A long backlog
takes several calls, each kept as it is made, at most CALLS_PER_RUN in one run: what is left
waits for the next one, and is dropped from this one's history meanwhile.

Never fails the run: a summary the model cannot make (error, timeout, empty answer) is
logged, and the history falls back to the last summary kept, or none, with the oldest turns
dropped until it fits (history.fit_history), as before summaries existed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from app.agents import summaries as summarizer
from app.agents.errors import ProviderFailure
from app.agents.spec import Turn
from app.agents.tools.context import Emit
from app.context import AppContext
from app.events import EventType
from app.runs import summaries
from app.runs.plan import RunPlan

log = logging.getLogger(__name__)

CALLS_PER_RUN = 4


@dataclass(frozen=True)
class History:
    """What the model gets: the summary of the first turns (or None), then the turns after it."""

    summary: str | None
    turns: list[Turn]


async def prepare(ctx: AppContext, plan: RunPlan, emit: Emit) -> History:
    start = plan.summary.covers if plan.summary else 0
    text = plan.summary.text if plan.summary else None
    pending = plan.turns[start:]
    spec, window = plan.spec, plan.spec.provider.max_context_tokens
    count = summarizer.overflow(spec.instructions, pending, window, text)
    if not count or not ctx.settings.summary_timeout_seconds or plan.thread_id is None:
        return History(text, pending)
    done = 0
    try:
        async with asyncio.timeout(ctx.settings.summary_timeout_seconds):
            for end in summarizer.batches(pending[:count], spec.instructions, window, text)[:CALLS_PER_RUN]:
                began = time.monotonic()
                made = await summarizer.summarize(spec.provider, text, pending[done:end], spec.instructions)
                covers = start + end
                async with ctx.db.transaction() as session:
                    await summaries.store(session, plan.thread_id, plan.turn_ids[covers - 1], covers, made.text,
                                          spec.provider.model)  # fmt: skip
                text, done = made.text, end
                await emit(EventType.MODEL_FINISHED, {
                    "duration_ms": int((time.monotonic() - began) * 1000), "model": spec.provider.model,
                    "prompt_tokens": made.prompt_tokens, "completion_tokens": made.completion_tokens,
                    "purpose": "summary", "messages": covers,
                })  # fmt: skip
    except Exception as exc:  # the reply goes on without it
        reason = _reason(ctx, exc)
        log.warning("run %s: no summary of earlier messages (%s); the oldest are left out", plan.run_id, reason)
    if done < count:
        log.info("run %s: %d earlier messages left out of the history", plan.run_id, count - done)
    return History(text, pending[done:])


def _reason(ctx: AppContext, exc: Exception) -> str:
    """Said in the log: never the messages' text (a database error's parameters hold it)."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {ctx.settings.summary_timeout_seconds:g} s"
    return str(exc) if isinstance(exc, ProviderFailure | ValueError) else type(exc).__name__
