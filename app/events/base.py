"""The event type, and the follow algorithm both backends share."""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from app.events.types import TERMINAL_TYPES

LISTENER_BUFFER = 1024
# With no live event for this long, a follower re-reads the log in case one was missed.
RESYNC_SECONDS = 5.0


@dataclass(frozen=True)
class RunEvent:
    id: int
    type: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_TYPES

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "type": self.type, "data": self.data}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> RunEvent:
        value = json.loads(raw)
        return cls(id=int(value["id"]), type=str(value["type"]), data=dict(value["data"]))


class Resync:
    """Put in a listener's queue when live delivery may have lost events."""


RESYNC = Resync()


class Listener:
    """A bounded buffer of live events for one follower; overflow means resync."""

    def __init__(self, maxsize: int = LISTENER_BUFFER) -> None:
        self.queue: asyncio.Queue[RunEvent | Resync] = asyncio.Queue(maxsize)

    def offer(self, item: RunEvent | Resync) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Dropping is safe: the next event shows a gap and the follower reads the log.
            pass


class Listeners:
    """The followers of each run in this process."""

    def __init__(self) -> None:
        self._by_run: dict[str, set[Listener]] = {}

    @asynccontextmanager
    async def register(self, run_id: str) -> AsyncIterator[Listener]:
        listener = Listener()
        self._by_run.setdefault(run_id, set()).add(listener)
        try:
            yield listener
        finally:
            followers = self._by_run.get(run_id, set())
            followers.discard(listener)
            if not followers:
                self._by_run.pop(run_id, None)

    def offer(self, run_id: str, item: RunEvent | Resync) -> None:
        for listener in self._by_run.get(run_id, ()):
            listener.offer(item)

    def offer_all(self, item: Resync) -> None:
        for run_id in list(self._by_run):
            self.offer(run_id, item)


class EventLog(ABC):
    @abstractmethod
    async def append(self, run_id: str, event: RunEvent) -> None:
        """Store the event in the run's log and notify followers."""

    @abstractmethod
    async def read_after(self, run_id: str, after: int) -> list[RunEvent]:
        """Events with id > after, oldest first (empty once the log expired)."""

    @abstractmethod
    async def last_id(self, run_id: str) -> int:
        """The newest event id in the log, or 0."""

    @abstractmethod
    async def finish(self, run_id: str) -> None:
        """The run ended: keep its log for the TTL, then forget it."""

    @abstractmethod
    def listen(self, run_id: str) -> AbstractAsyncContextManager[Listener]:
        """Register for live events of a run while the context is open."""

    @abstractmethod
    async def request_cancel(self, run_id: str) -> None: ...

    @abstractmethod
    async def cancel_requested(self, run_id: str) -> bool: ...

    @abstractmethod
    async def cancels_among(self, run_ids: list[str]) -> set[str]:
        """Which of these runs were asked to stop: one question for all a process runs."""

    @abstractmethod
    async def close(self) -> None: ...

    async def follow(
        self, run_id: str, after: int = 0, *, resync_seconds: float = RESYNC_SECONDS
    ) -> AsyncIterator[RunEvent]:
        """Every event after `after`, replayed then live, each exactly once, until terminal."""
        async with self.listen(run_id) as listener:
            last = after
            while True:
                for event in await self.read_after(run_id, last):
                    yield event
                    last = event.id
                    if event.terminal:
                        return
                async for event in _live(listener, last, resync_seconds):
                    yield event
                    last = event.id
                    if event.terminal:
                        return


async def _live(listener: Listener, last: int, resync_seconds: float) -> AsyncIterator[RunEvent]:
    """Consecutive live events; ends (so the caller re-reads the log) on any doubt."""
    while True:
        try:
            item = await asyncio.wait_for(listener.queue.get(), resync_seconds)
        except TimeoutError:
            return
        if isinstance(item, Resync):
            return
        if item.id <= last:
            continue
        if item.id != last + 1:
            return
        yield item
        last = item.id
        if item.terminal:
            return
