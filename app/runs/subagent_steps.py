"""A sub-agent's steps as its caller's trace shows them: the call labelled with the agent's
display name (the tool itself is `ask_agent_<slug>`), and the sub-agent's own model calls
nested under that call, as its tool calls already are (they carry `parent`)."""

from __future__ import annotations

from typing import Any

from app.agents.tools.context import Emit
from app.events.types import EventType


def naming(emit: Emit, tool_name: str, agent_name: str) -> Emit:
    """The steps of one `ask_agent_…` call, with `agent` (the display name) and a summary
    that says it instead of the slug."""
    slug_phrase = f"Asking the agent {tool_name.removeprefix('ask_agent_')}"  # agents/tools/instrument.py

    async def emit_named(kind: EventType, data: dict[str, Any]) -> Any:
        named = {**data, "agent": agent_name}
        summary = data.get("summary")
        if isinstance(summary, str) and summary.startswith(slug_phrase):
            named["summary"] = f"Asking {agent_name}" + summary.removeprefix(slug_phrase)
        return await emit(kind, named)

    return emit_named


def under_call(emit: Emit, call_id: str) -> Emit:
    """The sub-agent's model calls, as children of the call (`call_id`) that asked it."""

    async def emit_nested(kind: EventType, data: dict[str, Any]) -> Any:
        if kind == EventType.MODEL_FINISHED and not data.get("parent"):
            data = {**data, "parent": call_id}
        return await emit(kind, data)

    return emit_nested
