"""Summaries of the turns that no longer fit the model's window.

`overflow` says how many of the oldest turns must be summarized (none while everything
fits); `batches` cuts them into calls that each fit the same window; `summarize` asks the
model for the summary so far extended with one batch. Storing them, and falling back to
plain trimming when the model fails, is the run's side (app/runs/summarizing.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately

from app.agents.errors import classify
from app.agents.history import as_messages, file_text, history_budget
from app.agents.llm import build_chat_model
from app.agents.provider_config import ProviderConfig
from app.agents.spec import Turn

SUMMARY_INSTRUCTIONS = (
    "You keep the memory of a long conversation between a user and an assistant. You get the "
    "summary so far (if any) and the messages that follow it. Write the summary anew so that it "
    "covers both: facts, names, numbers, decisions, the user's goals and preferences, what was "
    "done and what is still open. Leave out small talk. Write in the conversation's language, "
    "without a preamble, as short paragraphs or a list."
)
# After a summary, the kept turns fill at most this share of the room left: the next turns then
# fit for a while, instead of each one asking for another summary.
KEEP_SHARE = 0.5
# The summary's own room: a quarter of the history's budget, within these bounds (tokens).
MIN_SUMMARY_TOKENS, MAX_SUMMARY_TOKENS = 64, 1024
CHARS_PER_TOKEN = 4  # as count_tokens_approximately reckons
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Summary:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def summary_tokens(instructions: str, window: int) -> int:
    budget = history_budget(instructions, window)
    return max(MIN_SUMMARY_TOKENS, min(budget // 4, MAX_SUMMARY_TOKENS))


def overflow(instructions: str, turns: Sequence[Turn], window: int, summary: str | None) -> int:
    """How many of the oldest `turns` to summarize so that the rest, after a summary, fit with
    room to grow; 0 when everything fits already (beside `summary`, what came before them)."""
    budget = history_budget(instructions, window)
    costs = [count_tokens_approximately([m]) for m in as_messages(turns)]
    held = count_tokens_approximately([SystemMessage(summary)]) if summary else 0
    if held + sum(costs) <= budget:
        return 0
    room = (budget - summary_tokens(instructions, window)) * KEEP_SHARE
    start, used = len(turns), 0
    while start > 0 and used + costs[start - 1] <= room:
        start -= 1
        used += costs[start]
    # The kept turns start with a user's: the newest one, at least, even if it alone is too long.
    users = [i for i, turn in enumerate(turns) if turn.role == "user"]
    later = [i for i in users if i >= start]
    start = later[0] if later else (users[-1] if users else len(turns) - 1)
    return max(start, 0)


def batches(turns: Sequence[Turn], instructions: str, window: int, previous: str | None = None) -> list[int]:
    """Where each summarizing call ends (exclusive indices into `turns`): each call's prompt (the
    summary so far, `previous` for the first, and its turns) fits the window beside the summary
    it writes."""
    room = _call_room(instructions, window, _tokens_of(previous))
    ends, used = [], 0
    for index, turn in enumerate(turns):
        length = min(len(transcript(turn)), room)
        if used and used + length > room:
            ends.append(index)
            # The later calls carry a summary made here: reckoned as long as one may be.
            room, used = _call_room(instructions, window, summary_tokens(instructions, window)), 0
        used += length
    return [*ends, len(turns)] if turns else []


def _call_room(instructions: str, window: int, previous_tokens: int) -> int:
    """Characters of turns one summarizing call may send: the window less its instructions, the
    summary so far, the one it writes (at most summary_tokens), and a tenth to spare (the count
    is an estimate)."""
    fixed = count_tokens_approximately([SystemMessage(SUMMARY_INSTRUCTIONS), HumanMessage("")]) + previous_tokens
    fixed += summary_tokens(instructions, window) + window // 10
    return max(window - fixed, MIN_SUMMARY_TOKENS) * CHARS_PER_TOKEN


def _tokens_of(text: str | None) -> int:
    return count_tokens_approximately([HumanMessage(text)]) if text else 0


def transcript(turn: Turn, limit: int | None = None) -> str:
    """A turn as the summarizer reads it; files by their text, images by name."""
    who = "User" if turn.role == "user" else "Assistant"
    text = "\n\n".join([turn.content, *(file_text(a) for a in turn.attachments)])
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return f"{who}: {text}"


async def summarize(
    config: ProviderConfig, previous: str | None, turns: Sequence[Turn], instructions: str = ""
) -> Summary:
    """The summary so far extended with `turns`; raises ProviderFailure, or ValueError if empty."""
    size = summary_tokens(instructions, config.max_context_tokens)
    room = _call_room(
        instructions, config.max_context_tokens, _tokens_of(previous)
    )  # a longer message is cut, as in batches
    parts = [f"Summary so far:\n{previous}"] if previous else []
    parts.append("Messages to add:\n\n" + "\n\n".join(transcript(t, room) for t in turns))
    parts.append(f"Write the new summary in at most {size * 3 // 4} words.")
    model = build_chat_model(config, temperature=0.2, max_tokens=size)
    try:
        reply = await model.ainvoke([SystemMessage(SUMMARY_INSTRUCTIONS), HumanMessage("\n\n".join(parts))])
    except Exception as exc:
        raise classify(exc, config.base_url, config.model) from exc
    text = _THINKING.sub("", _text_of(reply.content)).strip()
    if not text:
        raise ValueError("the model's summary was empty")
    usage = reply.usage_metadata
    return Summary(text, usage["input_tokens"], usage["output_tokens"]) if usage else Summary(text)


def _text_of(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
