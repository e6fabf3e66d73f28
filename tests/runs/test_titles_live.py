"""Generated titles where Nova runs for real: `nova serve` embedded, and a `nova worker` with
PostgreSQL and Redis, where the title is made by the worker and announced through Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace
from typing import cast

from app.context import AppContext
from app.events import RedisEventLog
from app.runs import titles
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply


async def test_the_worker_titles_a_new_thread(live: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Paris."))
    llm.queue_title(ScriptedReply(text="Capital of France"))
    async with live.api() as client:
        thread = (await client.post("/api/v1/threads", json={})).json()  # no title: "New thread"
    posted = await live.post(thread["id"], "What is the capital of France?")
    assert (await live.wait_terminal(posted["run_id"]))["status"] == "completed"
    deadline = time.monotonic() + 15
    while (title := await _title(live, thread["id"])) != "Capital of France":
        assert time.monotonic() < deadline, f"the thread is still called {title!r}"
        await asyncio.sleep(0.1)
    assert len(llm.title_requests) == 1


async def _title(live: LiveNova, thread_id: str) -> str:
    async with live.api() as client:
        listed = (await client.get("/api/v1/threads")).json()
    return str(next(row["title"] for row in listed["data"] if row["id"] == thread_id))


async def test_a_page_waiting_on_redis_gets_the_announced_title(redis_url: str) -> None:
    events = RedisEventLog(redis_url, ttl_seconds=60)
    ctx = cast(AppContext, SimpleNamespace(events=events))  # all the title events need
    early, late = uuid.uuid4(), uuid.uuid4()
    try:
        await titles._announce(ctx, early, uuid.uuid4(), "Said before the page asked")
        waiting = asyncio.create_task(titles.wait_for_title(ctx, late, within=10))
        await asyncio.sleep(0.3)  # the page listens first, then the worker announces
        await titles._announce(ctx, late, uuid.uuid4(), "Said while the page waited")
        assert await titles.wait_for_title(ctx, early, within=5) == "Said before the page asked"
        assert await waiting == "Said while the page waited"
        assert await titles.wait_for_title(ctx, uuid.uuid4(), within=0.5) is None  # never announced
        assert await events.read_after(str(late), 0) == []  # the run's own log is left alone
    finally:
        await events.close()
