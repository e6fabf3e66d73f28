"""In-process event log for the embedded mode (one process runs web and jobs)."""

from __future__ import annotations

import asyncio
import bisect
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.events.base import EventLog, Listener, RunEvent


class MemoryEventLog(EventLog):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._logs: defaultdict[str, list[RunEvent]] = defaultdict(list)
        self._listeners: defaultdict[str, set[Listener]] = defaultdict(set)
        self._cancelled: set[str] = set()
        self._expiries: dict[str, asyncio.TimerHandle] = {}

    async def append(self, run_id: str, event: RunEvent) -> None:
        log = self._logs[run_id]
        if log and event.id <= log[-1].id:
            return  # a duplicate from a retried writer; ids only move forward
        log.append(event)
        for listener in self._listeners.get(run_id, ()):
            listener.offer(event)

    async def read_after(self, run_id: str, after: int) -> list[RunEvent]:
        log = self._logs.get(run_id, [])
        start = bisect.bisect_right([event.id for event in log], after)
        return log[start:]

    async def last_id(self, run_id: str) -> int:
        log = self._logs.get(run_id)
        return log[-1].id if log else 0

    async def finish(self, run_id: str) -> None:
        self._cancelled.discard(run_id)
        if handle := self._expiries.pop(run_id, None):
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._expiries[run_id] = loop.call_later(self.ttl, self._forget, run_id)

    def _forget(self, run_id: str) -> None:
        self._logs.pop(run_id, None)
        self._expiries.pop(run_id, None)

    @asynccontextmanager
    async def listen(self, run_id: str) -> AsyncIterator[Listener]:
        listener = Listener()
        self._listeners[run_id].add(listener)
        try:
            yield listener
        finally:
            self._listeners[run_id].discard(listener)
            if not self._listeners[run_id]:
                del self._listeners[run_id]

    async def request_cancel(self, run_id: str) -> None:
        self._cancelled.add(run_id)

    async def cancel_requested(self, run_id: str) -> bool:
        return run_id in self._cancelled

    async def close(self) -> None:
        for handle in self._expiries.values():
            handle.cancel()
        self._expiries.clear()
