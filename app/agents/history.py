"""The conversation sent to the model: instructions kept, then a summary of the turns that no
longer fit (app/agents/summaries.py), then the newest turns; whatever still overflows is dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages

from app.agents.spec import Attachment, Turn

# Room left for the reply: a quarter of the window, at most this many tokens.
MAX_REPLY_RESERVE = 4096
SUMMARY_HEADING = "Summary of earlier messages (the start of this conversation, no longer shown in full):"


def reply_reserve(max_context_tokens: int) -> int:
    return min(max_context_tokens // 4, MAX_REPLY_RESERVE)


def history_budget(instructions: str, max_context_tokens: int) -> int:
    """The tokens the conversation (with its summary) may take beside the instructions and the reply."""
    reserve = reply_reserve(max_context_tokens)
    return max_context_tokens - reserve - count_tokens_approximately(_system(instructions, None))


def fit_history(
    instructions: str, turns: Sequence[Turn], max_context_tokens: int, summary: str | None = None
) -> list[BaseMessage]:
    system = _system(instructions, summary)
    conversation = as_messages(turns)
    budget = max_context_tokens - reply_reserve(max_context_tokens) - count_tokens_approximately(system)
    kept = trim_messages(
        conversation,
        max_tokens=max(budget, 1),
        token_counter=count_tokens_approximately,
        strategy="last",
        start_on="human",
        allow_partial=False,
    )
    if not kept and conversation:
        # Even the newest message alone is too long: send it anyway, the provider decides.
        kept = [conversation[-1]]
    return system + kept


def _system(instructions: str, summary: str | None) -> list[BaseMessage]:
    """One system message: many chat templates refuse a second one, or one after the first turn."""
    parts = [instructions.strip()] if instructions.strip() else []
    if summary:
        parts.append(f"{SUMMARY_HEADING}\n\n{summary.strip()}")
    return [SystemMessage("\n\n".join(parts))] if parts else []


def as_messages(turns: Sequence[Turn]) -> list[BaseMessage]:
    return [_human(t) if t.role == "user" else AIMessage(t.content) for t in turns]


def _human(turn: Turn) -> HumanMessage:
    """A user's message; its files follow the text: their text inline, images as image parts."""
    if not turn.attachments:
        return HumanMessage(turn.content)
    text = "\n\n".join([turn.content, *(file_text(a) for a in turn.attachments)])
    parts: list[str | dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": a.data_url}} for a in turn.attachments if a.data_url]
    return HumanMessage(content=parts)


def file_text(attachment: Attachment) -> str:
    lines = [f"[Attached file “{attachment.name}” ({attachment.content_type})]"]
    if attachment.text is not None:
        lines.append(attachment.text)
    if attachment.note:
        lines.append(f"[{attachment.note}]")
    return "\n".join(lines)
