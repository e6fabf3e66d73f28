"""The single writer of a run's events: numbers them and coalesces token deltas by time.

The first delta after a quiet spell is appended at once (no delay on the first token);
the deltas that follow are merged over a short window, so a fast model makes one event
per window instead of one per token, and never waits on Redis round trips.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.events.base import EventLog, RunEvent
from app.events.types import EventType

WINDOW_SECONDS = 0.02


class EventWriter:
    def __init__(self, log: EventLog, run_id: str, last_id: int, window_seconds: float = WINDOW_SECONDS) -> None:
        self.log = log
        self.run_id = run_id
        self.last_id = last_id
        self.window = window_seconds
        self._pending: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        # True while the flusher waits out the window (the only point it may be cancelled at).
        self._resting = False
        # Parallel tool calls emit at once: ids must reach the log in order.
        self._lock = asyncio.Lock()

    async def emit(self, type_: EventType, data: dict[str, Any]) -> RunEvent:
        await self.flush()
        return await self._append(type_, data)

    def delta(self, text: str) -> None:
        """Queue a token: appended at once when the stream was quiet, else with the window's batch."""
        if not text:
            return
        self._pending.append(text)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._drain())

    async def flush(self) -> None:
        """Append every queued delta now (another event, or the end, must come after them)."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            if self._resting:
                flusher.cancel()  # the batch so far was appended; the rest is appended below
            # wait() neither raises the flusher's cancellation nor swallows our own.
            await asyncio.wait([flusher])
            error = None if flusher.cancelled() else flusher.exception()
            if error is not None:
                raise error
        if self._pending:
            await self._append_pending()

    async def discard(self) -> None:
        """Drop queued deltas (the text is about to start over)."""
        self._pending.clear()
        await self.flush()

    async def _drain(self) -> None:
        while self._pending:
            await self._append_pending()
            if self.window <= 0:
                continue
            self._resting = True
            try:
                await asyncio.sleep(self.window)
            finally:
                self._resting = False

    async def _append_pending(self) -> None:
        text = "".join(self._pending)
        self._pending.clear()
        await self._append(EventType.MESSAGE_DELTA, {"text": text})

    async def _append(self, type_: EventType, data: dict[str, Any]) -> RunEvent:
        async with self._lock:
            self.last_id += 1
            event = RunEvent(id=self.last_id, type=type_, data=data)
            await self.log.append(self.run_id, event)
            return event
