"""The names of run events: what the writer emits and every stream (HTML, JSON, /v1) reads."""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    RUN_STARTED = "run.started"
    RUN_RESUMED = "run.resumed"
    # The reply starts over (a retry, or a new worker); `text` is what it starts from.
    RUN_RESTARTED = "run.restarted"
    # A provider call failed for a passing reason; `attempt` of `of` starts after a backoff.
    RUN_RETRYING = "run.retrying"
    RUN_WAITING = "run.waiting"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"
    RUN_CANCELLED = "run.cancelled"
    MESSAGE_DELTA = "message.delta"
    TOOL_STARTED = "tool.started"
    TOOL_FINISHED = "tool.finished"
    MODEL_FINISHED = "model.finished"
    # A new thread's generated title: published after the run ended, on a key of the run's
    # own (app/runs/titles.py), so the run's log still ends with its final event.
    THREAD_TITLED = "thread.titled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_TYPES


TERMINAL_TYPES = frozenset({EventType.RUN_COMPLETED, EventType.RUN_FAILED, EventType.RUN_CANCELLED})
