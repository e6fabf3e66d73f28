"""How a run can end: its status, the final event, and how its message (and /v1) say so."""

from __future__ import annotations

from dataclasses import dataclass

from app.events import EventType
from app.models import FinishReason, RunStatus


@dataclass(frozen=True)
class Ending:
    status: RunStatus
    event: EventType
    finish_reason: FinishReason


ENDINGS = (
    Ending(RunStatus.COMPLETED, EventType.RUN_COMPLETED, FinishReason.STOP),
    Ending(RunStatus.FAILED, EventType.RUN_FAILED, FinishReason.ERROR),
    Ending(RunStatus.CANCELLED, EventType.RUN_CANCELLED, FinishReason.CANCELLED),
)
BY_STATUS = {ending.status: ending for ending in ENDINGS}
BY_EVENT = {ending.event: ending for ending in ENDINGS}


def ending_of_event(event_type: str) -> Ending:
    return BY_EVENT[EventType(event_type)]
