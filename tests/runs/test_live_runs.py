"""Runs end to end against `nova serve` (embedded) and `nova serve` + `nova worker` (scaled).

The `live` tests share the module's two servers, each as a user of its own; the tests that
need other settings start their own processes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Message, MessageRole, Run
from tests.conftest import start_live
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.sse import Received, read_events

pytestmark = pytest.mark.live


def words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


async def replies_for(live: LiveNova, run_id: str) -> list[Message]:
    async with live.db.transaction() as session:
        query = select(Message).where(Message.run_id == uuid.UUID(run_id))
        return list((await session.scalars(query)).all())


async def test_reply_streams_with_dense_ids_and_is_stored_once(live: LiveNova, llm: ScriptedLLM) -> None:
    text = words(120)
    llm.queue(ScriptedReply(text=text, tokens_per_second=400))
    thread = await live.new_thread()
    posted = await live.post(thread, "Tell me a story")
    received = Received()
    async with live.api() as client:
        assert await read_events(client, posted["run_id"], received) == 200
    assert received.ids == list(range(1, len(received.ids) + 1))
    assert received.types[0] == "run.started" and received.types[-1] == "run.completed"
    assert received.text() == text
    final = received.events[-1][2]
    assert final["content"] == text and final["usage"]["completion_tokens"] == 120
    run = await live.run(posted["run_id"])
    assert run["status"] == "completed" and run["attempts"] == 1
    assert run["message"]["content"] == text and run["first_token_at"]
    assert len(await replies_for(live, posted["run_id"])) == 1
    # The agent's instructions went first, then the conversation.
    sent = llm.requests[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[-1] == {"role": "user", "content": "Tell me a story"}


async def test_resume_after_a_dropped_connection_has_no_gap_or_duplicate(live: LiveNova, llm: ScriptedLLM) -> None:
    text = words(200)
    llm.queue(ScriptedReply(text=text, tokens_per_second=200))
    posted = await live.post(await live.new_thread())
    received = Received()
    async with live.api() as client:
        await read_events(client, posted["run_id"], received, stop_after=15)
        await asyncio.sleep(0.3)  # the run goes on while nobody listens
        await read_events(client, posted["run_id"], received, stop_after=10)
        await read_events(client, posted["run_id"], received)
        again = await read_events(client, posted["run_id"], received)
    assert received.ids == list(range(1, received.last_id + 1))
    assert received.text() == text
    assert again == 204  # everything was delivered: nothing to resume
    assert (await live.run(posted["run_id"]))["status"] == "completed"


async def test_a_client_disconnect_is_not_a_cancellation(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text=words(60), tokens_per_second=150))
    posted = await live.post(await live.new_thread())
    async with live.api() as client:
        await read_events(client, posted["run_id"], Received(), stop_after=3)
    run = await live.wait_terminal(posted["run_id"])
    assert run["status"] == "completed"
    assert run["message"]["content"] == words(60)


async def test_stop_keeps_the_partial_text(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text=words(400), tokens_per_second=50))
    posted = await live.post(await live.new_thread())
    received = Received()
    async with live.api() as client:
        await read_events(client, posted["run_id"], received, stop_after=6)
        asked = time.monotonic()
        cancel = await client.post(f"/api/v1/runs/{posted['run_id']}/cancel")
        await read_events(client, posted["run_id"], received)
    assert cancel.status_code == 202
    run = await live.wait_terminal(posted["run_id"])
    assert time.monotonic() - asked < 1.5
    assert run["status"] == "cancelled"
    assert received.types[-1] == "run.cancelled"
    partial = run["message"]["content"]
    assert partial and words(400).startswith(partial) and partial != words(400)
    assert run["message"]["finish_reason"] == "cancelled"
    assert received.text() == partial


async def test_one_active_run_per_thread(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text=words(100), tokens_per_second=50))
    thread = await live.new_thread()
    first = await live.post(thread, "first")
    async with live.api() as client:
        second = await client.post(f"/api/v1/threads/{thread}/messages", json={"content": "second"})
        assert second.status_code == 409
        assert second.headers["content-type"] == "application/problem+json"
        assert "still replying" in second.json()["detail"]
        await client.post(f"/api/v1/runs/{first['run_id']}/cancel")
    await live.wait_terminal(first["run_id"])
    async with live.db.transaction() as session:
        query = select(func.count()).where(Message.thread_id == uuid.UUID(thread), Message.role == MessageRole.USER)
        users = await session.scalar(query)
    assert users == 1  # the refused message was not stored half-way
    third = await live.post(thread, "third")
    assert (await live.wait_terminal(third["run_id"]))["status"] == "completed"


async def test_provider_failures_read_like_sentences(live: LiveNova, llm: ScriptedLLM) -> None:
    cases = [
        ([ScriptedReply(status=401)], "The provider rejected the API key."),
        (
            [ScriptedReply(status=429)] * 4,
            "The provider rate-limited the request; retried 3 times.",
        ),
        ([ScriptedReply(status=503)] * 4, "The provider failed with HTTP 503. (retried 3 times)"),
    ]
    for replies, expected in cases:
        llm.requests.clear()
        llm.queue(*replies)
        posted = await live.post(await live.new_thread())
        run = await live.wait_terminal(posted["run_id"])
        assert (run["status"], run["error"]) == ("failed", expected)
        assert run["message"]["content"] == expected and run["message"]["finish_reason"] == "error"
        assert len(llm.requests) == len(replies)


async def test_a_transient_error_is_retried_then_succeeds(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(status=502), ScriptedReply(status=429), ScriptedReply(text="recovered"))
    posted = await live.post(await live.new_thread())
    run = await live.wait_terminal(posted["run_id"])
    assert (run["status"], run["message"]["content"]) == ("completed", "recovered")


async def test_unreachable_provider_names_the_address(live: LiveNova, llm: ScriptedLLM) -> None:
    from app.models import Provider

    async with live.db.transaction() as session:
        provider = await session.scalar(select(Provider).where(Provider.owner_id == live.user_id))
        assert provider is not None
        provider.base_url = "http://127.0.0.1:9/v1"
    posted = await live.post(await live.new_thread())
    run = await live.wait_terminal(posted["run_id"])
    assert run["error"] == "The provider is unreachable at http://127.0.0.1:9/v1. (retried 3 times)"


async def test_history_is_trimmed_to_the_context_window(live: LiveNova, llm: ScriptedLLM) -> None:
    from app.models import Provider

    async with live.db.transaction() as session:
        provider = await session.scalar(select(Provider).where(Provider.owner_id == live.user_id))
        assert provider is not None
        provider.max_context_tokens = 400
    thread = await live.new_thread()
    for n in range(6):
        posted = await live.post(thread, f"question {n}: " + words(40))
        await live.wait_terminal(posted["run_id"])
    sent = llm.requests[-1]["messages"]
    assert sent[0]["role"] == "system"
    assert sent[1]["role"] == "user"  # starts on a user turn
    assert sent[-1]["content"].startswith("question 5:")
    assert not any(m["content"].startswith("question 0:") for m in sent)


async def test_another_users_run_is_404_everywhere(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text=words(50), tokens_per_second=100))
    posted = await live.post(await live.new_thread())
    stranger = await live.as_new_user(llm.base_url)
    async with stranger.api() as client:
        for response in (
            await client.get(f"/api/v1/runs/{posted['run_id']}"),
            await client.get(f"/api/v1/runs/{posted['run_id']}/events"),
            await client.post(f"/api/v1/runs/{posted['run_id']}/cancel"),
            await client.post(f"/api/v1/threads/{posted['thread_id']}/messages", json={"content": "x"}),
        ):
            assert response.status_code == 404
    assert (await live.wait_terminal(posted["run_id"]))["status"] == "completed"


async def test_tokens_cannot_forge_events(live: LiveNova, llm: ScriptedLLM) -> None:
    hostile = 'line one\nevent: run.completed\ndata: {"forged": true}\n\r\nid: 999\r<script>x</script> end'
    llm.queue(ScriptedReply(text=hostile))
    posted = await live.post(await live.new_thread())
    received = Received()
    async with live.api() as client:
        await read_events(client, posted["run_id"], received)
    assert received.text() == hostile
    assert received.types.count("run.completed") == 1
    assert received.ids == list(range(1, received.last_id + 1))


async def test_expired_log_replays_the_final_state_from_the_database(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    async with start_live(request, "scaled", tmp_path, NOVA_EVENT_LOG_TTL_SECONDS="1") as live:
        await live.seed(llm.base_url)
        llm.queue(ScriptedReply(text="kept in the database"))
        posted = await live.post(await live.new_thread())
        await live.wait_terminal(posted["run_id"])
        await asyncio.sleep(1.5)
        received = Received()
        async with live.api() as client:
            await read_events(client, posted["run_id"], received)
        async with live.db.transaction() as session:
            runs = await session.scalar(select(func.count()).select_from(Run))
    assert received.types == ["run.completed"]
    assert received.events[0][2]["content"] == "kept in the database"
    assert runs == 1 and len(llm.requests) == 1


async def test_heartbeat_and_connection_lifetime(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    settings = {"NOVA_SSE_HEARTBEAT_SECONDS": "0.3", "NOVA_SSE_MAX_LIFETIME_SECONDS": "1.2"}
    async with start_live(request, "embedded", tmp_path, **settings) as live:
        await live.seed(llm.base_url)
        llm.queue(ScriptedReply(text=words(30), tokens_per_second=10, first_token_delay=0.8))
        posted = await live.post(await live.new_thread())
        async with live.api() as client:
            started = time.monotonic()
            async with client.stream("GET", f"/api/v1/runs/{posted['run_id']}/events") as response:
                raw = [line async for line in response.aiter_lines()]
            lifetime = time.monotonic() - started
            received, connections = Received(), 0
            while not received.types or received.types[-1] != "run.completed":
                connections += 1
                await read_events(client, posted["run_id"], received)
    assert any(line.startswith(":") for line in raw)  # heartbeat comments
    # The server ended the connection before the run did (its end is not in it); the client resumes.
    assert not any("run.completed" in line for line in raw)
    assert 1.0 < lifetime < 10
    assert connections >= 2
    assert received.ids == list(range(1, received.last_id + 1))
    assert received.text() == words(30)


async def test_enqueueing_the_same_run_again_never_runs_it_twice(scaled_live: LiveNova, llm: ScriptedLLM) -> None:
    from app.queue import ArqJobQueue

    live = scaled_live
    llm.queue(ScriptedReply(text=words(40), tokens_per_second=100))
    posted = await live.post(await live.new_thread())
    queue = ArqJobQueue(live.env["REDIS_URL"])
    for _ in range(3):  # a double submit, a retried request...
        await queue.enqueue_run(uuid.UUID(posted["run_id"]))
    await queue.close()
    run = await live.wait_terminal(posted["run_id"])
    await asyncio.sleep(0.5)
    replies = await replies_for(live, posted["run_id"])
    assert run["status"] == "completed" and run["attempts"] == 1
    assert len(replies) == 1 and len(llm.requests) == 1
