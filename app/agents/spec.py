"""The runtime's plain data: what an agent is, a turn of history, a pause, token usage.

Apart from the runtime so that code on the web side (the run state machine, the plan)
can name these types without importing langchain and langgraph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.agents.provider_config import ProviderConfig


@dataclass(frozen=True)
class Attachment:
    """A file a user message carried, as the model gets it: an image, or text (maybe cut)."""

    name: str
    content_type: str
    text: str | None = None
    data_url: str | None = None  # data:image/...;base64,...
    note: str | None = None  # what the model should know: the text was cut, or could not be read


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class EnabledTool:
    name: str
    ask_first: bool = False


@dataclass(frozen=True)
class AgentSpec:
    provider: ProviderConfig
    instructions: str
    temperature: float
    recursion_limit: int
    tools: tuple[EnabledTool, ...] = ()
    name: str = "Nova"
    # After the first chunk, provider reads are merged over this window (NOVA_STREAM_COALESCE_MS).
    stream_window_seconds: float = 0.0
    # Limits an integration set for this reply (OpenAI's max_tokens and stop).
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Paused:
    """The graph stopped at an interrupt: a question or an approval for the user."""

    request: dict[str, Any]
    # Which pending interrupt this is: parallel tool calls can pause several at once, and
    # each answer resumes only its own (the rest pause the run again, one card at a time).
    interrupt_id: str | None = None
