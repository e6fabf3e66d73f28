"""The file checks without a server: formats, the tree rules, ChatGPT's node kinds, file names."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.errors import ValidationFailed
from app.transfer import reading
from app.transfer.export import content_disposition


def _node(parent: str | None, role: str | None, text: str = "", **message: Any) -> dict[str, Any]:
    found = {"author": {"role": role}, "content": {"content_type": "text", "parts": [text]}, **message}
    return {"parent": parent, "children": [], "message": found if role else None}


def _refusal(content: object) -> str:
    with pytest.raises(ValidationFailed) as refused:
        reading.conversations(json.dumps(content).encode() if not isinstance(content, bytes) else content)
    return refused.value.errors["file"]


def test_chatgpt_keeps_the_visible_text_and_the_branch_ending_at_the_current_node() -> None:
    mapping = {
        "root": _node(None, None),
        "u": _node("root", "user", "Hi", create_time=1700000000.5),
        "hidden": _node("u", "assistant", "(memory updated)", metadata={"is_visually_hidden_from_conversation": True}),
        "call": _node("hidden", "assistant", "search('x')", recipient="web"),
        "a": _node("call", "assistant", "Hello!"),
        "done": _node("a", "tool", "finished"),  # the current node: a tool's, so the branch ends at "a"
    }
    [found] = reading.conversations(json.dumps([{"title": "  Hi  there ", "mapping": mapping, "current_node": "done",
                                                 "create_time": 1700000000}]).encode())  # fmt: skip
    assert found.title == "Hi there"
    assert [(m.key, m.parent_key, m.role, m.content) for m in found.messages] == [
        ("u", None, "user", "Hi"), ("a", "u", "assistant", "Hello!")
    ]  # fmt: skip
    assert found.current_key == "a"
    assert found.messages[0].created_at == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)
    assert found.messages[1].created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # none: the conversation's


def test_nova_times_without_a_zone_are_utc_and_a_missing_current_message_shows_the_newest() -> None:
    doc = {"format": "nova.thread", "version": 1, "thread": {"title": "T", "created_at": "2026-01-01T10:00:00"},
           "messages": [{"id": "a", "role": "user", "content": "Q", "created_at": "2026-01-01T10:00:00"},
                        {"id": "b", "parent_id": "a", "role": "assistant", "content": "A1", "created_at": "2026-01-01T10:01:00"},
                        {"id": "c", "parent_id": "a", "role": "assistant", "content": "A2", "created_at": "2026-01-01T10:02:00"}]}  # fmt: skip
    [found] = reading.conversations(json.dumps(doc).encode())
    assert found.created_at.tzinfo is UTC and found.current_key == "c"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"   ", "The file is empty."),
        (b"[" * 5000 + b"]" * 5000, "The file is not JSON"),  # deeper than any export
        ([], "The file holds no conversations."),
        ({"format": "nova.thread", "version": 2, "thread": {"title": "Later"}},
         "Conversation 1 (“Later”) is a nova.thread of version 2; this Nova reads version 1."),
        ({"title": "Loop", "mapping": {"a": _node("b", "user", "x"), "b": _node("a", "assistant", "y")}},
         "Conversation 1 (“Loop”): its messages' parents go round in a circle."),
        ({"title": "Nul", "mapping": {"a": _node(None, "user", "x\u0000y")}}, "holds a NUL character"),
        ({"title": "Twice", "mapping": {"a": _node(None, "user", "x\ud800")}}, "The file is not JSON (no low surrogate in string"),  # orjson refuses it
    ],
)  # fmt: skip
def test_what_is_refused_and_why(content: object, reason: str) -> None:
    assert reason in _refusal(content)


def test_download_names_are_safe_and_keep_the_title_for_browsers_that_can() -> None:
    assert content_disposition('Café: "plans" / 2026', "md") == (
        "attachment; filename=\"Cafe-plans-2026.md\"; filename*=UTF-8''Caf%C3%A9%20plans%202026.md"
    )
    assert content_disposition("日本語", "json").startswith('attachment; filename="thread.json"')
