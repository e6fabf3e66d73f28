"""What happens when processes and Redis die: runs end, nothing is stuck or duplicated."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.models import FinishReason, Message, Run, RunStatus
from tests.conftest import start_live
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.redis import RedisServer
from tests.fixtures.server import nova_serve
from tests.fixtures.sse import Received, read_events

pytestmark = pytest.mark.live

RUN_TIMEOUT = 8


def words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


async def test_worker_killed_mid_run_is_retried_by_another(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    settings = {"NOVA_RUN_TIMEOUT_SECONDS": str(RUN_TIMEOUT)}
    async with start_live(request, "scaled", tmp_path, **settings) as live:
        await live.seed(llm.base_url)
        llm.queue(ScriptedReply(text=words(300), tokens_per_second=40), ScriptedReply(text="second try"))
        posted = await live.post(await live.new_thread())
        received = Received()
        async with live.api() as client:
            await read_events(client, posted["run_id"], received, stop_after=8)
            live.kill_workers(signal.SIGKILL)
            killed_at = time.monotonic()
            live.start_worker()
            run = await live.wait_terminal(posted["run_id"], within=RUN_TIMEOUT + 30)
            await read_events(client, posted["run_id"], received)
        replies = await _replies(live, posted["run_id"])
    assert time.monotonic() - killed_at < RUN_TIMEOUT + 30
    assert run["status"] == "completed" and run["attempts"] == 2
    assert "run.restarted" in received.types
    assert received.text() == "second try"  # the text started over
    assert [m.content for m in replies] == ["second try"]


async def test_redis_restart_mid_stream_is_survived(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM, redis_server: RedisServer
) -> None:
    async with start_live(request, "scaled", tmp_path) as live:
        await live.seed(llm.base_url)
        llm.queue(ScriptedReply(text=words(120), tokens_per_second=40))
        posted = await live.post(await live.new_thread())
        received = Received()
        async with live.api() as client:
            await read_events(client, posted["run_id"], received, stop_after=10)
            redis_server.stop()
            await asyncio.sleep(0.5)
            redis_server.start()
            run = await live.wait_terminal(posted["run_id"], within=40)
            status = await read_events(client, posted["run_id"], received)
        replies = await _replies(live, posted["run_id"])
    assert run["status"] == "completed", run["error"]
    assert [m.content for m in replies] == [words(120)]
    # The log before the restart is gone (no persistence here), but what the client
    # resumes with continues its ids: no duplicates, no ids going backwards.
    assert status in (200, 204)
    assert received.ids == sorted(set(received.ids))
    assert received.types[-1] == "run.completed"


async def test_redis_down_when_posting_is_a_clear_503(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM, redis_server: RedisServer
) -> None:
    async with start_live(request, "scaled", tmp_path) as live:
        await live.seed(llm.base_url)
        thread = await live.new_thread()
        redis_server.stop()
        try:
            async with live.api() as client:
                response = await client.post(f"/api/v1/threads/{thread}/messages", json={"content": "hi"})
        finally:
            redis_server.start()
        async with live.db.transaction() as session:
            runs = (await session.scalars(select(Run))).all()
    assert response.status_code == 503
    assert "could not reach its job queue" in response.json()["detail"]
    assert [(r.status, r.error is not None) for r in runs] == [(RunStatus.FAILED, True)]


async def test_embedded_restart_marks_interrupted_runs_failed(tmp_path: Path, llm: ScriptedLLM) -> None:
    from tests.fixtures.live import live_nova

    reply = words(400)
    async with live_nova("embedded", tmp_path) as live:
        await live.seed(llm.base_url)
        llm.queue(ScriptedReply(text=reply, tokens_per_second=20))
        posted = await live.post(await live.new_thread())
        received = Received()
        async with live.api() as client:
            await read_events(client, posted["run_id"], received, stop_after=4)
        saved = await _saved_text(live, posted["run_id"])  # the text the reader has seen so far
        live.web.process.kill()
        live.web.process.wait()
        with nova_serve(tmp_path, **live.env) as again:
            async with httpx.AsyncClient(
                base_url=again.url, headers={"authorization": f"Bearer {live.token}"}
            ) as client:
                run = (await client.get(f"/api/v1/runs/{posted['run_id']}")).json()
                final = Received()
                await read_events(client, posted["run_id"], final)
        replies = await _replies(live, posted["run_id"])
    assert run["status"] == "failed"
    assert run["error"] == "Interrupted by a restart of Nova."
    # The text streamed before the restart is kept, marked as cut short (not as a failure).
    kept = run["message"]["content"]
    assert run["message"]["finish_reason"] == "interrupted"
    assert kept.startswith(saved) and reply.startswith(kept) and len(kept) < len(reply)
    assert kept.startswith(received.text())
    assert final.types == ["run.failed"] and final.events[0][2]["content"] == kept
    assert final.events[0][2]["finish_reason"] == "interrupted"
    assert [(m.content, m.finish_reason) for m in replies] == [(kept, FinishReason.INTERRUPTED)]


async def _saved_text(live: LiveNova, run_id: str, within: float = 10) -> str:
    """The run's text once the worker has saved some (about every second)."""
    deadline = time.monotonic() + within
    while True:
        async with live.db.transaction() as session:
            text = await session.scalar(select(Run.partial_text).where(Run.id == uuid.UUID(run_id)))
        if text:
            return text
        assert time.monotonic() < deadline, "no text saved while the reply streamed"
        await asyncio.sleep(0.05)


async def _replies(live: LiveNova, run_id: str) -> list[Message]:
    async with live.db.transaction() as session:
        query = select(Message).where(Message.run_id == uuid.UUID(run_id))
        return list((await session.scalars(query)).all())


async def test_two_web_processes_and_two_workers_share_the_runs(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    """Runs posted on one web process, executed by either worker, followed on the other web
    process and resumed on the first: every stream is whole, in order and gap-free."""
    model, count = "tokens=60,rate=60", 6
    expected = " ".join(f"t{n}" for n in range(60))
    async with start_live(request, "scaled", tmp_path) as live:
        live.start_worker()
        await live.seed(llm.base_url)
        with nova_serve(tmp_path, **live.env) as second:
            async with live.api() as first_web:
                posted = []
                for _ in range(count):
                    thread = await live.new_thread()
                    response = await first_web.post(
                        f"/api/v1/threads/{thread}/messages", json={"content": "Count", "model": model}
                    )
                    posted.append(response.json()["run_id"])
                async with httpx.AsyncClient(base_url=second.url, headers=first_web.headers, timeout=30) as other:

                    async def follow(run_id: str) -> Received:
                        received = Received()
                        await read_events(other, run_id, received, stop_after=5)  # on the second web process
                        await read_events(first_web, run_id, received)  # resumed on the first
                        return received

                    streams = await asyncio.gather(*(follow(run_id) for run_id in posted))
            runs = [await live.run(run_id) for run_id in posted]
    assert [run["status"] for run in runs] == ["completed"] * count, [run["error"] for run in runs]
    for received in streams:
        assert received.ids == list(range(1, received.last_id + 1))
        assert received.text() == expected and received.types[-1] == "run.completed"
