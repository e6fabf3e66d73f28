"""The official openai client, unchanged, against Nova's /v1."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI

from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply

pytestmark = pytest.mark.live


def client_for(live: LiveNova, token: str | None = None) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=live.url + "/v1", api_key=token or live.token, max_retries=0)


async def test_models_are_the_users_agents(live: LiveNova) -> None:
    async with client_for(live) as client:
        models = await client.models.list()
    assert [m.id for m in models.data] == ["helper"]


async def test_streaming_chat_completion(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Streaming through Nova works fine.", tokens_per_second=200))
    async with client_for(live) as client:
        stream = await client.chat.completions.create(
            model="helper",
            messages=[
                {"role": "system", "content": "Answer in English."},
                {"role": "user", "content": "Earlier question"},
                {"role": "assistant", "content": "Earlier answer"},
                {"role": "user", "content": "Does streaming work?"},
            ],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Streaming through Nova works fine."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
    sent = llm.requests[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief.\n\nAnswer in English."}
    assert [m["content"] for m in sent[1:]] == [
        "Earlier question",
        "Earlier answer",
        "Does streaming work?",
    ]


async def test_non_streaming_completion_lands_in_a_thread(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="A whole answer."))
    async with client_for(live) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="helper", messages=[{"role": "user", "content": "Give me an answer"}]
        )
        completion = raw.parse()
        thread_id = raw.headers["x-nova-thread-id"]
        llm.queue(ScriptedReply(text="Second answer."))
        follow_up = await client.chat.completions.create(
            model="helper", messages=[{"role": "user", "content": "And another"}],
            extra_headers={"X-Nova-Thread-Id": thread_id},
        )  # fmt: skip
    assert completion.choices[0].message.content == "A whole answer."
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    assert follow_up.choices[0].message.content == "Second answer."
    async with live.api() as api:
        threads = (await api.get("/api/v1/threads")).json()["data"]
    assert [t["id"] for t in threads] == [thread_id]
    assert threads[0]["title"] == "Give me an answer"


async def test_errors_follow_openais_shape(live: LiveNova, llm: ScriptedLLM) -> None:
    async with client_for(live, token="nova_wrong") as bad:
        with pytest.raises(openai.AuthenticationError):
            await bad.models.list()
    async with client_for(live) as client:
        with pytest.raises(openai.BadRequestError) as unknown:
            await client.chat.completions.create(model="nobody", messages=[{"role": "user", "content": "x"}])
        assert "No agent" in unknown.value.message
        llm.queue(ScriptedReply(status=401))
        with pytest.raises(openai.APIStatusError) as failed:
            await client.chat.completions.create(model="helper", messages=[{"role": "user", "content": "x"}])
        assert failed.value.status_code == 424  # decided: never a status the client retries
        assert "rejected the API key" in failed.value.message
        assert f"{live.url}/threads/" in failed.value.message


async def test_a_retried_request_with_an_idempotency_key_never_runs_twice(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Only once."), ScriptedReply(text="Streamed once."))
    ask = {"model": "helper", "messages": [{"role": "user", "content": "Once please"}]}
    async with client_for(live) as client:
        key = {"Idempotency-Key": "retry-me-1"}
        first = await client.chat.completions.with_raw_response.create(**ask, extra_headers=key)  # type: ignore[call-overload]
        again = await client.chat.completions.with_raw_response.create(**ask, extra_headers=key)  # type: ignore[call-overload]
        streamed = []
        for _ in range(2):  # the retry of a stream gets the same run's events from the start
            stream = await client.chat.completions.create(**ask, stream=True, extra_headers={"Idempotency-Key": "s-1"})  # type: ignore[call-overload]
            streamed.append("".join([c.choices[0].delta.content or "" async for c in stream if c.choices]))
        with pytest.raises(openai.UnprocessableEntityError) as other:
            await client.chat.completions.create(
                model="helper", messages=[{"role": "user", "content": "Something else"}], extra_headers=key
            )
    assert first.parse().choices[0].message.content == again.parse().choices[0].message.content == "Only once."
    assert first.headers["x-nova-run-id"] == again.headers["x-nova-run-id"]
    assert streamed == ["Streamed once.", "Streamed once."]
    assert "different request" in other.value.message
    assert len([r for r in llm.requests if r.get("messages", [{}])[-1].get("content") == "Once please"]) == 2
    async with live.api() as api:
        assert len((await api.get("/api/v1/threads")).json()["data"]) == 2


async def test_sampling_options_reach_the_provider_and_a_bad_one_names_its_field(
    live: LiveNova, llm: ScriptedLLM
) -> None:
    llm.queue(ScriptedReply(text="Tuned."), ScriptedReply(text="Agent's own."))
    ask = [{"role": "user", "content": "Tune me"}]
    async with client_for(live) as client:
        tuned = await client.chat.completions.create(
            model="helper", messages=ask, temperature=0.1, max_tokens=7, stop="END", user="end-user-1"
        )
        plain = await client.chat.completions.create(model="helper", messages=[{"role": "user", "content": "Plain"}])
        with pytest.raises(openai.BadRequestError) as hot:
            await client.chat.completions.create(model="helper", messages=ask, temperature=3)
        with pytest.raises(openai.BadRequestError) as stops:
            await client.chat.completions.create(model="helper", messages=ask, stop=["a", "b", "c", "d", "e"])
        models = await client.models.list()
    sent = {r["messages"][-1]["content"]: r for r in llm.requests if r.get("messages")}
    assert tuned.choices[0].message.content == "Tuned." and plain.choices[0].message.content == "Agent's own."
    assert (sent["Tune me"]["temperature"], sent["Tune me"]["max_tokens"], sent["Tune me"]["stop"]) == (0.1, 7, ["END"])
    assert sent["Plain"]["temperature"] == 0.3 and "max_tokens" not in sent["Plain"] and "stop" not in sent["Plain"]
    assert (hot.value.param, hot.value.code) == ("temperature", "invalid_request")
    assert stops.value.param == "stop"
    assert models.data[0].owned_by and models.data[0].created
