"""What every import is held to, whatever its format: limits, a sound tree, text a database keeps.

A file breaking any rule is refused whole, with a message naming the conversation and what is
wrong, before anything is written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime

from app.errors import ValidationFailed
from app.transfer.document import Conversation, ImportedMessage

FIELD = "file"
MAX_THREADS = 2000
MAX_MESSAGES = 100_000  # in the whole file
MAX_MESSAGE_CHARS = 500_000  # longer than the composer's limit: pasted documents and long replies
MAX_TITLE = 200
UNTITLED = "Imported thread"


def refuse(message: str) -> ValidationFailed:
    return ValidationFailed({FIELD: message})


def named(number: int, title: object) -> str:
    """How errors name a conversation: its place in the file (from 1) and its title."""
    if isinstance(title, str) and title.strip():
        return f"Conversation {number} (“{clean_title(title)}”)"
    return f"Conversation {number}"


def check_count(count: int) -> None:
    if count == 0:
        raise refuse("The file holds no conversations.")
    if count > MAX_THREADS:
        raise refuse(f"The file holds {count} conversations; one import takes at most {MAX_THREADS}.")


def clean_title(title: object) -> str:
    text = " ".join(title.split()) if isinstance(title, str) else ""
    text = text[: MAX_TITLE - 1] + "…" if len(text) > MAX_TITLE else text
    return text or UNTITLED


def checked(conversation: Conversation, number: int) -> Conversation:
    """The conversation with its messages ordered parents first and the branch shown settled."""
    name = named(number, conversation.title)
    conversation.created_at = _utc(conversation.created_at)
    if not conversation.messages:
        raise refuse(f"{name} has no messages.")
    by_key: dict[str, ImportedMessage] = {}
    for message in conversation.messages:
        if message.key in by_key:
            raise refuse(f"{name}: two messages have the id “{message.key}”.")
        by_key[message.key] = message
        message.created_at = _utc(message.created_at)
        _check_text(message, name)
    conversation.messages = _parents_first(conversation.messages, by_key, name)
    if conversation.current_key not in by_key:
        conversation.current_key = _newest_leaf(conversation.messages)
    return conversation


def check_total(conversations: Sequence[Conversation]) -> None:
    total = sum(len(c.messages) for c in conversations)
    if total > MAX_MESSAGES:
        raise refuse(f"The file holds {total} messages; one import takes at most {MAX_MESSAGES}.")


def _utc(moment: datetime) -> datetime:
    """A time without a zone is taken as UTC (as Nova writes them)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_text(message: ImportedMessage, name: str) -> None:
    where = f"{name}, message “{message.key}”"
    if len(message.content) > MAX_MESSAGE_CHARS:
        raise refuse(f"{where} is longer than {MAX_MESSAGE_CHARS} characters.")
    if "\x00" in message.content:
        raise refuse(f"{where} holds a NUL character, which no message may.")
    try:
        message.content.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse(f"{where} is not valid Unicode (a lone surrogate).") from None


def _parents_first(
    messages: list[ImportedMessage], by_key: dict[str, ImportedMessage], name: str
) -> list[ImportedMessage]:
    children: dict[str | None, list[ImportedMessage]] = {}
    for message in messages:
        if message.parent_key is not None and message.parent_key not in by_key:
            raise refuse(f"{name}: message “{message.key}” follows “{message.parent_key}”, which is not in the file.")
        children.setdefault(message.parent_key, []).append(message)
    ordered: list[ImportedMessage] = []
    waiting = deque(children.get(None, []))
    while waiting:  # breadth first from the roots: a parent is always inserted before its children
        message = waiting.popleft()
        ordered.append(message)
        waiting.extend(children.get(message.key, []))
    if len(ordered) < len(messages):
        raise refuse(f"{name}: its messages' parents go round in a circle.")
    return ordered


def _newest_leaf(messages: list[ImportedMessage]) -> str:
    parents = {m.parent_key for m in messages}
    leaves = [m for m in messages if m.key not in parents]
    return max(leaves, key=lambda m: m.created_at).key
