"""Reading ChatGPT's data export, `conversations.json`: a list of conversations, each a tree.

Each conversation's `mapping` holds its nodes (`id`, `parent`, `children`, `message`), and
`current_node` ends the branch ChatGPT showed. Only what a person saw is kept: user and
assistant text. System prompts, custom instructions, tool calls and their results, hidden
messages and images are left out; a kept message follows the nearest kept one above it, so
edits and regenerations stay branches.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.transfer.document import Conversation, ImportedMessage
from app.transfer.tree import clean_title, named, refuse

TEXT_TYPES = {"text", "multimodal_text"}


def is_chatgpt(item: object) -> bool:
    return isinstance(item, dict) and "mapping" in item


def conversation(raw: Any, number: int) -> Conversation:
    name = named(number, raw.get("title") if isinstance(raw, dict) else None)
    mapping = raw.get("mapping") if isinstance(raw, dict) else None
    if not isinstance(mapping, dict) or not all(isinstance(node, dict) for node in mapping.values()):
        raise refuse(f"{name} has no `mapping` of messages (is this ChatGPT's conversations.json?).")
    created = _time(raw.get("create_time")) or datetime.now(UTC)
    kept: dict[str, ImportedMessage] = {}
    for node_id, node in mapping.items():
        if (text := _shown_text(node.get("message"))) is not None:
            role = node["message"]["author"]["role"]
            kept[str(node_id)] = ImportedMessage(
                key=str(node_id),
                parent_key=None,
                role=role,
                content=text,
                created_at=_time(node["message"].get("create_time")) or created,
                finish_reason="stop" if role == "assistant" else None,
            )
    for key, message in kept.items():
        message.parent_key = _kept_above(mapping, mapping[key].get("parent"), kept, name)
    current = raw.get("current_node")
    return Conversation(
        title=clean_title(raw.get("title")),
        created_at=created,
        messages=list(kept.values()),
        current_key=_kept_above(mapping, current, kept, name) if isinstance(current, str) else None,
    )


def _shown_text(message: Any) -> str | None:
    """A user's or assistant's text, as the conversation showed it; None for anything else."""
    if not isinstance(message, dict):
        return None
    author, content = message.get("author"), message.get("content")
    metadata = message.get("metadata")
    if not isinstance(author, dict) or author.get("role") not in ("user", "assistant") or not isinstance(content, dict):
        return None
    if isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation"):
        return None
    if message.get("recipient", "all") != "all":  # a call to a tool (browsing, code), not a reply
        return None
    if content.get("content_type") not in TEXT_TYPES or not isinstance(content.get("parts"), list):
        return None
    text = "\n\n".join(part for part in content["parts"] if isinstance(part, str)).strip()
    return text or None


def _kept_above(mapping: dict[str, Any], node_id: Any, kept: dict[str, ImportedMessage], name: str) -> str | None:
    """The nearest kept message at or above `node_id`."""
    seen = 0
    while node_id is not None:
        if not isinstance(node_id, str) or node_id not in mapping:
            raise refuse(f"{name}: a message follows “{node_id}”, which is not in its mapping.")
        if node_id in kept:
            return node_id
        seen += 1
        if seen > len(mapping):
            raise refuse(f"{name}: its messages' parents go round in a circle.")
        node_id = mapping[node_id].get("parent")
    return None


def _time(value: Any) -> datetime | None:
    """ChatGPT's times are seconds since 1970 (with a fraction); some nodes have none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
