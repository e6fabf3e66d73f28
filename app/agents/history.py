"""The conversation sent to the model: instructions kept, oldest turns dropped to fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages

from app.agents.spec import Attachment, Turn

# Room left for the reply: a quarter of the window, at most this many tokens.
MAX_REPLY_RESERVE = 4096


def fit_history(instructions: str, turns: Sequence[Turn], max_context_tokens: int) -> list[BaseMessage]:
    system = [SystemMessage(instructions)] if instructions.strip() else []
    conversation: list[BaseMessage] = [_human(t) if t.role == "user" else AIMessage(t.content) for t in turns]
    reserve = min(max_context_tokens // 4, MAX_REPLY_RESERVE)
    budget = max_context_tokens - reserve - count_tokens_approximately(system)
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


def _human(turn: Turn) -> HumanMessage:
    """A user's message; its files follow the text: their text inline, images as image parts."""
    if not turn.attachments:
        return HumanMessage(turn.content)
    text = "\n\n".join([turn.content, *(_file_text(a) for a in turn.attachments)])
    parts: list[str | dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": a.data_url}} for a in turn.attachments if a.data_url]
    return HumanMessage(content=parts)


def _file_text(attachment: Attachment) -> str:
    lines = [f"[Attached file “{attachment.name}” ({attachment.content_type})]"]
    if attachment.text is not None:
        lines.append(attachment.text)
    if attachment.note:
        lines.append(f"[{attachment.note}]")
    return "\n".join(lines)
