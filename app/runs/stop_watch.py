"""One watch over every run a process executes: Stop pressed, or the owner suspended.

Each run used to poll for itself (the event log five times a second, the database once a
second): 200 runs made a thousand Redis calls and 200 queries a second. Here one task asks
the event log about all of them at once every `CANCEL_POLL_SECONDS`, and the database
(where `nova user suspend` beside an embedded server is seen) every `OWNER_CHECK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.context import AppContext
from app.runs import lifecycle

CANCEL_POLL_SECONDS = 0.2
OWNER_CHECK_SECONDS = 1.0

log = logging.getLogger(__name__)


class StopWatch:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._stops: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def watching(self, run_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set once the run should stop, for as long as the context is open."""
        stop = self._stops.setdefault(run_id, asyncio.Event())
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        try:
            yield stop
        finally:
            self._stops.pop(run_id, None)

    async def _poll(self) -> None:
        owners_checked_at = time.monotonic()
        while self._stops:
            await asyncio.sleep(CANCEL_POLL_SECONDS)
            running = [run_id for run_id, stop in self._stops.items() if not stop.is_set()]
            if not running:
                continue
            try:
                stopped = await self.ctx.events.cancels_among(running)
                if time.monotonic() - owners_checked_at >= OWNER_CHECK_SECONDS:
                    owners_checked_at = time.monotonic()
                    suspended = await lifecycle.with_inactive_owner(self.ctx, [uuid.UUID(r) for r in running])
                    stopped |= {str(run_id) for run_id in suspended}
            except Exception as exc:  # Redis restarting, a busy database: runs go on, ask again shortly
                log.warning("cannot check whether runs were stopped (%s)", type(exc).__name__)
                continue
            for run_id in stopped:
                if stop := self._stops.get(run_id):
                    stop.set()


# One watch per event loop and context (tests run several apps, each in a loop of its own).
_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, StopWatch]] = weakref.WeakKeyDictionary()


def stop_watch(ctx: AppContext) -> StopWatch:
    by_context = _watches.setdefault(asyncio.get_running_loop(), {})
    watch = by_context.get(id(ctx))
    if watch is None or watch.ctx is not ctx:
        watch = by_context[id(ctx)] = StopWatch(ctx)
    return watch
