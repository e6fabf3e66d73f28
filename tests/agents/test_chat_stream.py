"""Reading a chat completion stream raw: any split of the bytes gives the same reply."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.agents.chat_stream import ChatStreamParser, ProviderStreamError, StreamDelta
from app.agents.errors import classify


def event(payload: dict[str, Any] | str, newline: str = "\n") -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}{newline}{newline}".encode()


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def stream_of(tokens: list[str], calls: list[tuple[str, str]], newline: str = "\n") -> bytes:
    """A provider's body: text tokens, then tool calls whose arguments come in 3-char pieces."""
    body = event(chunk({"role": "assistant", "content": ""}), newline)
    body += b"".join(event(chunk({"content": token}), newline) for token in tokens)
    for index, (name, args) in enumerate(calls):
        body += event(
            chunk(
                {"tool_calls": [{"index": index, "id": f"call_{index}", "function": {"name": name, "arguments": ""}}]}
            ),
            newline,
        )
        for at in range(0, len(args), 3):
            body += event(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": args[at : at + 3]}}]}), newline
            )
    body += event(chunk({}, "tool_calls" if calls else "stop"), newline)
    body += event(
        {
            "choices": [],
            "usage": {"prompt_tokens": 7, "completion_tokens": len(tokens), "total_tokens": 7 + len(tokens)},
        },
        newline,
    )
    return body + event("[DONE]", newline)


def read(body: bytes, cuts: list[int]) -> list[StreamDelta]:
    parser = ChatStreamParser()
    bounds = [0, *sorted({cut % (len(body) + 1) for cut in cuts}), len(body)]
    deltas = [parser.feed(body[start:end]) for start, end in pairwise(bounds)]
    assert parser.done
    return [delta for delta in deltas if delta]


json_args = st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=8)), max_size=3).map(
    json.dumps
)


@settings(max_examples=150, deadline=None)
@given(
    tokens=st.lists(st.text(min_size=1, max_size=5), max_size=30),
    calls=st.lists(st.tuples(st.sampled_from(["search", "fetch_page"]), json_args), max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_split_of_the_bytes_gives_the_same_text_tool_calls_and_usage(
    tokens: list[str], calls: list[tuple[str, str]], cuts: list[int], newline: str
) -> None:
    deltas = read(stream_of(tokens, calls, newline), cuts)
    assert "".join(piece for delta in deltas for piece in delta.text) == "".join(tokens)
    merged: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        for index, piece in delta.tool_calls.items():
            call = merged.setdefault(index, {"id": None, "name": "", "args": ""})
            call["id"] = call["id"] or piece.id
            call["name"] += piece.name
            call["args"] += piece.args
    assert [(c["id"], c["name"], c["args"]) for _i, c in sorted(merged.items())] == [
        (f"call_{n}", name, args) for n, (name, args) in enumerate(calls)
    ]
    assert [d.usage for d in deltas if d.usage] == [
        {"prompt_tokens": 7, "completion_tokens": len(tokens), "total_tokens": 7 + len(tokens)}
    ]
    assert [d.finish_reason for d in deltas if d.finish_reason] == ["tool_calls" if calls else "stop"]


def test_a_fast_read_of_many_tokens_is_one_delta() -> None:
    deltas = read(stream_of([f"t{n} " for n in range(500)], []), [])
    assert len(deltas) == 1 and len(deltas[0].text) == 500


def test_a_data_field_on_several_lines_and_comments() -> None:
    parser = ChatStreamParser()
    payload = json.dumps(chunk({"content": "hi"}))
    split = payload.index(",")
    # The spec joins data lines with a newline, which JSON reads as whitespace.
    body = (
        b": ping\n\nevent: message\ndata: " + payload[:split].encode() + b"\ndata:" + payload[split:].encode() + b"\n\n"
    )
    assert parser.feed(body).text == ["hi"]


def test_an_error_inside_the_stream_becomes_a_provider_failure() -> None:
    parser = ChatStreamParser()
    parser.feed(event(chunk({"content": "partial"})))
    with pytest.raises(ProviderStreamError) as raised:
        parser.feed(event({"error": {"message": "overloaded", "type": "server_error"}}))
    failure = classify(raised.value, "http://llm", "m")
    assert failure.message == "The provider reported an error: overloaded" and failure.transient


def test_a_body_that_is_not_a_stream_is_an_error() -> None:
    parser = ChatStreamParser()
    assert not parser.feed(b'{"choices": []}')
    assert not parser.close()
    with pytest.raises(ProviderStreamError):
        parser.check_complete()


def test_nothing_after_done_counts() -> None:
    parser = ChatStreamParser()
    delta = parser.feed(event(chunk({"content": "a"})) + event("[DONE]") + event(chunk({"content": "late"})))
    assert delta.text == ["a"] and parser.done
