"""The single writer of a run's events: numbers them and coalesces token deltas.

Deltas produced while the previous append is still in flight are merged into one event,
so a fast model never waits on Redis round trips, and an idle stream sends each token at
once (no batching delay on the first token).
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.events.base import EventLog, RunEvent
from app.events.types import EventType


class EventWriter:
    def __init__(self, log: EventLog, run_id: str, last_id: int) -> None:
        self.log = log
        self.run_id = run_id
        self.last_id = last_id
        self._pending: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        # Parallel tool calls emit at once: ids must reach the log in order.
        self._lock = asyncio.Lock()

    async def emit(self, type_: EventType, data: dict[str, Any]) -> RunEvent:
        await self.flush()
        return await self._append(type_, data)

    def delta(self, text: str) -> None:
        """Queue a token; it is appended as soon as the previous append finished."""
        if not text:
            return
        self._pending.append(text)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._drain())

    async def flush(self) -> None:
        if self._flusher is not None:
            await self._flusher
            self._flusher = None
        if self._pending:
            await self._drain()

    async def discard(self) -> None:
        """Drop queued deltas (the text is about to start over)."""
        self._pending.clear()
        await self.flush()

    async def _drain(self) -> None:
        while self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            await self._append(EventType.MESSAGE_DELTA, {"text": text})

    async def _append(self, type_: EventType, data: dict[str, Any]) -> RunEvent:
        async with self._lock:
            self.last_id += 1
            event = RunEvent(id=self.last_id, type=type_, data=data)
            await self.log.append(self.run_id, event)
            return event
