"""A thread as Nova's JSON document (every branch) or as Markdown (the branch shown), and its file name."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.db import utcnow
from app.models import Agent, Message, Run, Thread
from app.transfer.document import ExportedMessage, ExportedStep, ExportedThread, ThreadDocument

MAX_QUOTED = 200  # characters of a tool step's output quoted in Markdown


def document(
    thread: Thread, messages: Sequence[Message], runs: Mapping[uuid.UUID, Run], agents: Mapping[uuid.UUID, Agent]
) -> ThreadDocument:
    exported = []
    for m in messages:
        run = runs.get(m.run_id) if m.run_id else None
        agent = agents.get(m.agent_id) if m.agent_id and m.role.value == "assistant" else None
        exported.append(
            ExportedMessage(
                id=str(m.id), parent_id=str(m.parent_id) if m.parent_id else None, role=m.role.value,
                content=m.content, created_at=m.created_at, agent=agent.name if agent else None,
                model=(run.model if run else None) or (agent.model if agent else None),
                finish_reason=m.finish_reason.value if m.finish_reason else None,
                tool_steps=_steps(run.trace if run else None),
            )
        )  # fmt: skip
    current = str(thread.current_message_id) if thread.current_message_id else None
    about = ExportedThread(
        title=thread.title, created_at=thread.created_at, updated_at=thread.updated_at, current_message_id=current
    )
    return ThreadDocument(exported_at=utcnow(), thread=about, messages=exported)


def _steps(trace: list[Any] | None) -> list[ExportedStep]:
    """The tool calls of a run's kept trace (model calls and notes are for the trace page)."""
    return [
        ExportedStep(
            name=str(step.get("tool", "")), summary=step.get("summary"), input=step.get("args"),
            output=step.get("preview"), status=step.get("status"), duration_ms=step.get("duration_ms"),
            steps=_steps(step.get("children")),
        )
        for step in trace or []
        if isinstance(step, dict) and step.get("kind") == "tool"
    ]  # fmt: skip


def shown_branch(doc: ThreadDocument) -> list[ExportedMessage]:
    """The messages from the first to `current_message_id`, oldest first."""
    by_id = {m.id: m for m in doc.messages}
    branch: list[ExportedMessage] = []
    at = by_id.get(doc.thread.current_message_id or "")
    while at is not None and len(branch) <= len(by_id):
        branch.append(at)
        at = by_id.get(at.parent_id or "")
    return branch[::-1]


def markdown(doc: ThreadDocument, timezone: str = "UTC") -> str:
    zone = _zone(timezone)
    branch = shown_branch(doc)
    note = f"Exported from Nova on {_when(doc.exported_at or utcnow(), zone)}."
    if len(branch) < len(doc.messages):
        note += " This is the branch shown; the JSON export holds every version."
    lines = [f"# {doc.thread.title}", "", f"*{note}*"]
    for message in branch:
        author = "You" if message.role == "user" else message.agent or "Assistant"
        model = f" ({message.model})" if message.model and message.role == "assistant" else ""
        ending = f" · {message.finish_reason}" if message.finish_reason not in (None, "stop") else ""
        lines += ["", "---", "", f"**{author}**{model} · {_when(message.created_at, zone)}{ending}", ""]
        lines += [line for step in message.tool_steps for line in _quoted(step)]
        if message.tool_steps:
            lines.append("")
        lines.append(message.content)
    return "\n".join(lines) + "\n"


def _quoted(step: ExportedStep, depth: int = 1) -> list[str]:
    """A tool step as a short quote: what was called, how it ended, the start of its output."""
    mark = ">" * depth
    status = f" — {step.status}" if step.status else ""
    lines = [f"{mark} **Tool** `{step.name}`: {_one_line(step.summary or step.input or '')}{status}"]
    if step.output:
        lines += [mark, f"{mark} {_one_line(step.output)}"]
    for child in step.steps:
        lines += [mark, *_quoted(child, depth + 1)]
    return lines


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 1] + "…"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def content_disposition(title: str, extension: str) -> str:
    """`attachment` with an ASCII name made from the title, and the title itself for browsers
    that read RFC 6266's `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-")[:80].strip("-") or "thread"
    readable = " ".join(re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', " ", title).split())[:120] or "thread"
    return f"attachment; filename=\"{slug}.{extension}\"; filename*=UTF-8''{quote(readable)}.{extension}"
