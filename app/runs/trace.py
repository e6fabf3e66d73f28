"""A run's execution trace: model calls, tool calls (nested for sub-agents), errors.

Built from the run's events, so the live view and the kept trace are the same thing.
Arguments and previews were already redacted when the events were written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.events import EventType, RunEvent

STEP_TYPES = {
    EventType.TOOL_STARTED,
    EventType.TOOL_FINISHED,
    EventType.MODEL_FINISHED,
    EventType.RUN_RESTARTED,
    EventType.RUN_RETRYING,
    EventType.RUN_WAITING,
}


def from_events(events: Sequence[RunEvent]) -> list[dict[str, Any]]:
    """Steps in order; a sub-agent's tool and model calls nested under the call that asked it."""
    roots: list[dict[str, Any]] = []
    by_call: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.type not in STEP_TYPES:
            continue
        data = event.data
        if event.type == EventType.MODEL_FINISHED:
            _siblings(data, by_call, roots).append({"kind": "model", **data})
            continue
        if event.type in (EventType.RUN_RESTARTED, EventType.RUN_RETRYING, EventType.RUN_WAITING):
            roots.append({"kind": "note", "summary": _note(event)})
            continue
        call_id = str(data.get("call_id"))
        step = by_call.get(call_id)
        if step is None:
            step = {"kind": "tool", "children": [], "status": "running", **data}
            by_call[call_id] = step
            _siblings(data, by_call, roots).append(step)
        step.update({k: v for k, v in data.items() if k != "parent"})
    return roots


def _siblings(data: dict[str, Any], by_call: dict[str, dict[str, Any]], roots: list[dict[str, Any]]) -> list[Any]:
    """Where a step goes: among the children of the call it names as `parent`, else at the top."""
    parent = by_call.get(str(data.get("parent"))) if data.get("parent") else None
    if parent is None:
        return roots
    children: list[Any] = parent["children"]
    return children


def _note(event: RunEvent) -> str:
    if event.type == EventType.RUN_RESTARTED:
        return f"Started over: {event.data.get('reason', '')}"
    if event.type == EventType.RUN_RETRYING:
        return f"Tried again ({event.data.get('attempt')}/{event.data.get('of')}): {event.data.get('reason', '')}"
    request = event.data
    if request.get("kind") == "approval":
        return f"Waited for approval: {request.get('summary', '')}"
    return f"Asked: {request.get('question', '')}"
