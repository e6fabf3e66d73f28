"""An OpenAI-compatible chat completion stream, read raw: SSE bytes in, merged deltas out.

Each network read is parsed whole and everything it held (often many tokens when the
model is fast) becomes one delta, so the per-token cost is a JSON parse and nothing else:
no SDK or langchain object per provider chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


class ProviderStreamError(Exception):
    """The provider reported an error inside a stream that had started fine."""


@dataclass
class ToolCallDelta:
    """A piece of one tool call; pieces with the same index add up (name and arguments)."""

    index: int
    id: str | None = None
    name: str = ""
    args: str = ""


@dataclass
class StreamDelta:
    text: list[str] = field(default_factory=list)
    tool_calls: dict[int, ToolCallDelta] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None

    def __bool__(self) -> bool:
        return bool(self.text or self.tool_calls or self.finish_reason or self.usage)

    def add(self, chunk: dict[str, Any]) -> None:
        if error := chunk.get("error"):
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise ProviderStreamError(str(message or "unknown error"))
        self.model = chunk.get("model") or self.model
        if usage := chunk.get("usage"):
            self.usage = usage
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # Nova asks for one choice
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
            delta = choice.get("delta") or {}
            if content := delta.get("content"):
                self.text.append(content)
            for position, call in enumerate(delta.get("tool_calls") or ()):
                self._add_tool_call(position, call)

    def _add_tool_call(self, position: int, call: dict[str, Any]) -> None:
        # Some servers leave out the index when each chunk holds whole calls.
        index = call.get("index", position)
        piece = self.tool_calls.setdefault(index, ToolCallDelta(index))
        piece.id = piece.id or call.get("id")
        function = call.get("function") or {}
        piece.name += function.get("name") or ""
        piece.args += function.get("arguments") or ""


class ChatStreamParser:
    """Feed it the response body as it arrives; it returns what each read added."""

    def __init__(self) -> None:
        self._partial = b""
        self._data: list[bytes] = []
        self.events = 0
        self.done = False

    def feed(self, data: bytes) -> StreamDelta:
        delta = StreamDelta()
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line.rstrip(b"\r"), delta)
        return delta

    def close(self) -> StreamDelta:
        """The body ended: an event without its closing blank line still counts."""
        delta = StreamDelta()
        if self._partial:
            self._line(self._partial.rstrip(b"\r"), delta)
            self._partial = b""
        self._line(b"", delta)
        return delta

    def check_complete(self) -> None:
        """The body ended without [DONE]: fine after some events, an error after none."""
        if not self.events:
            raise ProviderStreamError("The provider's answer was not a stream of events.")

    def _line(self, line: bytes, delta: StreamDelta) -> None:
        if line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        elif not line and self._data:
            payload = b"\n".join(self._data)
            self._data = []
            self.events += 1
            if payload.strip() == b"[DONE]":
                self.done = True
            elif not self.done:
                delta.add(orjson.loads(payload))
        # Other fields (event:, id:, retry:) and comments (":") carry nothing Nova uses.
