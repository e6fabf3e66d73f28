"""Which events a (re)connecting client gets: the log after its id, or the final state.

Opens a database session only to check the owner and read the final state, and closes
it before the first event is sent: a stream never holds a connection.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.context import AppContext
from app.errors import NotFound
from app.events import EventType, RunEvent
from app.models import Run
from app.runs import service


@dataclass(frozen=True)
class RunStream:
    run: Run
    # None: the client already has every event, including the last one.
    events: AsyncIterator[RunEvent] | None


async def open_run_stream(
    ctx: AppContext,
    owner_id: uuid.UUID,
    run_id: uuid.UUID,
    after: int,
    thread_id: uuid.UUID | None = None,
) -> RunStream:
    async with ctx.db.transaction() as session:
        run = await service.get_run(session, owner_id, run_id)
        if thread_id is not None and run.thread_id != thread_id:
            raise NotFound(str(run_id))
        final = await service.final_event(session, run) if run.status.is_terminal else None
    key = str(run_id)
    if final is not None:
        last = await ctx.events.last_id(key)
        if last == 0:
            # The log expired: send the outcome from the database, never a second run.
            return RunStream(run, _just(final))
        tail = await ctx.events.read_after(key, last - 1)
        if after >= last and tail and tail[-1].terminal:
            return RunStream(run, None)
    return RunStream(run, ctx.events.follow(key, after))


async def _just(event: RunEvent) -> AsyncIterator[RunEvent]:
    yield event


async def text_so_far(ctx: AppContext, run_id: uuid.UUID, until: int | None = None) -> tuple[str, int]:
    """The reply's text in the log and the id it reaches, for a page rendered mid-run
    (or, with `until`, what a client resuming after that event already shows)."""
    text: list[str] = []
    last = 0
    for event in await ctx.events.read_after(str(run_id), 0):
        if until is not None and event.id > until:
            break
        last = event.id
        if event.type == EventType.RUN_RESTARTED:
            text[:] = [str(event.data.get("text", ""))]
        elif event.type == EventType.MESSAGE_DELTA:
            text.append(str(event.data.get("text", "")))
    return "".join(text), last
