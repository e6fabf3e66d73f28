"""Reading Nova's own export (app/transfer/document.py) back: one thread, or a list of them."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from app.transfer.document import Conversation, ImportedMessage, ThreadDocument
from app.transfer.tree import clean_title, named, refuse


def is_nova(item: object) -> bool:
    return isinstance(item, dict) and item.get("format") == "nova.thread"


def conversation(raw: dict[str, Any], number: int) -> Conversation:
    title = raw["thread"].get("title") if isinstance(raw.get("thread"), dict) else None
    if raw.get("version") != 1:
        version = raw.get("version")
        raise refuse(f"{named(number, title)} is a nova.thread of version {version!r}; this Nova reads version 1.")
    try:
        document = ThreadDocument.model_validate(raw)
    except ValidationError as exc:
        raise refuse(f"{named(number, title)}: {_first_problem(exc)}") from None
    messages = [
        ImportedMessage(
            key=m.id,
            parent_key=m.parent_id,
            role=m.role,
            content=m.content,
            created_at=m.created_at,
            finish_reason=m.finish_reason if m.role == "assistant" else None,
        )
        for m in document.messages
    ]
    return Conversation(
        title=clean_title(document.thread.title),
        created_at=document.thread.created_at,
        messages=messages,
        current_key=document.thread.current_message_id,
    )


def _first_problem(exc: ValidationError) -> str:
    """The first field refused, as a path into the file (`messages.3.role`) and why."""
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "the document"
    return f"{where}: {error['msg']}."
