"""In-process event log for the embedded mode (one process runs web and jobs)."""

from __future__ import annotations

import asyncio
import bisect
from collections import defaultdict
from contextlib import AbstractAsyncContextManager

from app.events.base import EventLog, Listener, Listeners, RunEvent


class MemoryEventLog(EventLog):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._logs: defaultdict[str, list[RunEvent]] = defaultdict(list)
        self._listeners = Listeners()
        self._cancelled: set[str] = set()
        self._expiries: dict[str, asyncio.TimerHandle] = {}

    async def append(self, run_id: str, event: RunEvent) -> None:
        log = self._logs[run_id]
        if log and event.id <= log[-1].id:
            return  # a duplicate from a retried writer; ids only move forward
        log.append(event)
        self._listeners.offer(run_id, event)

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

    def listen(self, run_id: str) -> AbstractAsyncContextManager[Listener]:
        return self._listeners.register(run_id)

    async def request_cancel(self, run_id: str) -> None:
        self._cancelled.add(run_id)

    async def cancel_requested(self, run_id: str) -> bool:
        return run_id in self._cancelled

    async def cancels_among(self, run_ids: list[str]) -> set[str]:
        return self._cancelled.intersection(run_ids)

    async def close(self) -> None:
        for handle in self._expiries.values():
            handle.cancel()
        self._expiries.clear()
