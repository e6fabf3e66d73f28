"""Run events: publish, replay and follow, with Redis and in-process backends.

Each run has an append-only log of events with dense ids 1, 2, 3, ... assigned by the
single writer (the job executing the run). Followers register for live events *before*
reading the log, so nothing falls between replay and live; ids make duplicates and gaps
visible, and any gap (a lagging client, a Redis restart) is filled from the log.
"""

from __future__ import annotations

from app.events.base import EventLog, RunEvent
from app.events.memory import MemoryEventLog
from app.events.redis import RedisEventLog
from app.events.types import TERMINAL_TYPES, EventType
from app.settings import Settings

__all__ = [
    "TERMINAL_TYPES",
    "EventLog",
    "EventType",
    "MemoryEventLog",
    "RedisEventLog",
    "RunEvent",
    "make_event_log",
]


def make_event_log(settings: Settings) -> EventLog:
    if settings.redis_url:
        return RedisEventLog(settings.redis_url, ttl_seconds=settings.event_log_ttl_seconds)
    return MemoryEventLog(ttl_seconds=settings.event_log_ttl_seconds)
