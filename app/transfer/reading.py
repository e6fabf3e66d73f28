"""From an uploaded file's bytes to the conversations to insert: JSON, which format, every rule.

CPU work on up to NOVA_IMPORT_MAX_BYTES: the views run it in a worker thread.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.transfer import import_chatgpt, import_json
from app.transfer.document import Conversation
from app.transfer.tree import check_count, check_total, checked, refuse

UNKNOWN = (
    "Nova does not know this file's format: send a thread exported from Nova (JSON) or ChatGPT's conversations.json."
)


def conversations(data: bytes) -> list[Conversation]:
    """Every conversation of the file, checked; ValidationFailed naming the first problem."""
    if not data.strip():
        raise refuse("The file is empty.")
    try:
        parsed: Any = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise refuse(f"The file is not JSON ({_reason(exc)}).") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    check_count(len(items))
    if all(import_json.is_nova(item) for item in items):
        read = [import_json.conversation(item, n) for n, item in enumerate(items, 1)]
    elif all(import_chatgpt.is_chatgpt(item) for item in items):
        read = [import_chatgpt.conversation(item, n) for n, item in enumerate(items, 1)]
    else:
        raise refuse(_which_unknown(items))
    check_total(read)  # before the per-message checks: a huge file stops early
    return [checked(conversation, n) for n, conversation in enumerate(read, 1)]


def _which_unknown(items: list[Any]) -> str:
    """Name the first item that fits neither format, when others do (a file edited by hand)."""
    kinds = [import_json.is_nova(i) or import_chatgpt.is_chatgpt(i) for i in items]
    if all(kinds):
        return "The file mixes Nova threads and ChatGPT conversations: import each kind in a file of its own."
    if any(kinds):
        number = kinds.index(False) + 1
        return f"Conversation {number} is neither a Nova thread nor a ChatGPT conversation."
    if isinstance(items[0], dict) and isinstance(items[0].get("format"), str):
        return f"Nova does not know the format “{items[0]['format'][:100]}”. " + UNKNOWN.split(": ", 1)[1].capitalize()
    return UNKNOWN


def _reason(exc: orjson.JSONDecodeError) -> str:
    """orjson's message, which names the problem and where: "unexpected character: line 1 column 1"."""
    text = str(exc).split(" (char")[0]
    return text[:200]
