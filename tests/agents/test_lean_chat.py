"""The lean model against a real (scripted) OpenAI-compatible server: tools, usage, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from app.agents.errors import classify
from app.agents.lean_chat import LeanChatOpenAI
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply


@tool
def lookup(city: str, days: int) -> str:
    """Look up the weather of a city for some days."""
    return f"{city}: sunny for {days} days"


def lean(llm: ScriptedLLM, key: str | None = None) -> LeanChatOpenAI:
    return LeanChatOpenAI(model_name="scripted-small", base_url=llm.base_url, api_key=key, temperature=0.1)


async def test_tool_calls_streamed_in_pieces_come_back_whole(llm: ScriptedLLM) -> None:
    llm.queue(
        ScriptedReply(
            tool_calls=[("lookup", {"city": "Paris, France", "days": 12}), ("lookup", {"city": "Oslo", "days": 1})]
        )
    )
    message = await lean(llm).bind_tools([lookup]).ainvoke([HumanMessage("weather?")])
    assert isinstance(message, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("lookup", {"city": "Paris, France", "days": 12}, "call_0"),
        ("lookup", {"city": "Oslo", "days": 1}, "call_1"),
    ]
    sent = llm.requests[-1]
    assert sent["tools"][0]["function"]["name"] == "lookup"
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


async def test_the_conversation_is_sent_in_openai_shape_and_usage_comes_back(llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="It is sunny."))
    history = [
        HumanMessage("weather?"),
        AIMessage("", tool_calls=[{"name": "lookup", "args": {"city": "Oslo", "days": 1}, "id": "call_0"}]),
        ToolMessage("Oslo: sunny", tool_call_id="call_0"),
    ]
    message = await lean(llm).bind_tools([lookup], tool_choice="any").ainvoke(history)
    assert message.content == "It is sunny."
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] == 3
    sent = llm.requests[-1]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool"]
    assert sent["messages"][1]["tool_calls"][0]["function"] == {
        "name": "lookup",
        "arguments": '{"city": "Oslo", "days": 1}',
    }
    assert sent["messages"][2]["tool_call_id"] == "call_0"
    assert sent["tool_choice"] == "required" and sent["temperature"] == 0.1


async def test_the_key_is_sent_only_when_there_is_one(llm: ScriptedLLM) -> None:
    llm.api_key = "sk-right"
    llm.queue(ScriptedReply(text="ok"))
    assert (await lean(llm, "sk-right").ainvoke("hi")).content == "ok"
    with pytest.raises(Exception) as refused:
        await lean(llm).ainvoke("hi")
    assert classify(refused.value, llm.base_url, "m").kind == "auth"


async def test_an_http_error_is_classified_by_its_status(llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(status=503))
    with pytest.raises(Exception) as failed:
        await lean(llm).ainvoke("hi")
    failure = classify(failed.value, llm.base_url, "m")
    assert (failure.kind, failure.transient) == ("server", True)


def test_the_sync_api_works_too(llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="sync reply"))
    assert lean(llm).invoke("hi").content == "sync reply"


async def test_reads_that_come_while_the_caller_is_busy_become_one_and_errors_come_last() -> None:
    import asyncio

    from app.agents.lean_chat import _batched

    async def reads() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0.05)  # the caller is idle: "b" goes out alone, at once
        yield b"b"
        for piece in (b"c", b"d", b"e"):
            await asyncio.sleep(0.001)
            yield piece
        raise ConnectionError("cut")

    got: list[bytes] = []
    with pytest.raises(ConnectionError):
        async for data in _batched(reads()):
            got.append(data)
            if data == b"b":
                await asyncio.sleep(0.05)  # busy: c, d and e arrive meanwhile
    assert got == [b"a", b"b", b"cde"]


async def test_a_paced_stream_is_merged_over_the_window_and_the_first_read_is_not_held() -> None:
    import asyncio
    import time

    from app.agents.lean_chat import _batched

    async def paced() -> AsyncIterator[bytes]:
        for n in range(20):
            yield str(n % 10).encode()
            await asyncio.sleep(0.01)  # a model writing 100 tokens a second

    started, arrivals, got = time.monotonic(), [], []
    async for data in _batched(paced(), window=0.05):
        arrivals.append(time.monotonic() - started)
        got.append(data)
    assert b"".join(got) == b"01234567890123456789"
    assert got[0] == b"0" and arrivals[0] < 0.02  # the first token at once
    assert 3 <= len(got) <= 7  # then about one chunk per 50 ms
