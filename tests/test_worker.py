"""arq's own Worker running Nova's jobs in this process, against a real Redis and PostgreSQL.

Runs are posted through the JSON API (so they are enqueued by `ArqJobQueue`) and executed
by a worker built from `worker_settings`, in burst mode as arq's own tests do: no `nova
worker` process to boot.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq import ArqRedis, Worker, create_pool
from arq.connections import RedisSettings
from arq.constants import retry_key_prefix
from arq.jobs import Job

from app.db import utcnow
from app.migrate import upgrade_to_head
from app.models import Run, RunStatus
from app.queue import QUEUE_NAME, ArqJobQueue, run_job_id
from app.settings import Settings
from app.tokens import service as tokens
from app.worker import check_worker, worker_settings
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, nova_settings, open_nova
from tests.fixtures.sse import Received, read_events

# arq's Worker.close() calls redis-py's deprecated close(); nothing Nova can change.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


@dataclass
class Queued:
    """Nova in scaled mode (PostgreSQL, Redis, arq), as one user's API client."""

    nova: Nova
    settings: Settings
    api: httpx.AsyncClient
    redis: ArqRedis

    async def post(self, content: str = "Hello?") -> str:
        thread = await self.api.post("/api/v1/threads", json={"title": "Queued"})
        assert thread.status_code == 201, thread.text
        url = f"/api/v1/threads/{thread.json()['id']}/messages"
        posted = await self.api.post(url, json={"content": content, "agent": "helper"})
        assert posted.status_code == 201, posted.text
        return str(posted.json()["run_id"])

    async def run(self, run_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/api/v1/runs/{run_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def worker(self, **overrides: Any) -> Worker:
        return Worker(**(worker_settings(self.settings) | {"handle_signals": False} | overrides))

    async def run_burst(self) -> int:
        """Run every queued job to the end, as `arq --burst` does; the number completed."""
        worker = self.worker(burst=True)
        try:
            return await worker.run_check()  # raises FailedJobs if a job itself failed
        finally:
            await worker.close()


@pytest.fixture(scope="module")
def worker_database(postgres_url: str) -> str:
    upgrade_to_head(postgres_url)
    return postgres_url


@pytest.fixture
async def queued(worker_database: str, redis_url: str, tmp_path: Path, llm: ScriptedLLM) -> AsyncIterator[Queued]:
    settings = nova_settings(worker_database, tmp_path, REDIS_URL=redis_url, NOVA_RUN_TIMEOUT_SECONDS="20")
    async with open_nova(settings) as nova:
        assert isinstance(nova.ctx.jobs, ArqJobQueue)
        user = await nova.create_user("ada@example.com")
        await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
        async with nova.ctx.db.transaction() as session:
            issued = await tokens.create_token(session, user.id, "tests", "write")
        redis = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE_NAME)
        async with nova.client() as api:
            api.headers["authorization"] = f"Bearer {issued.secret}"
            try:
                yield Queued(nova, settings, api, redis)
            finally:
                await redis.aclose()


async def test_a_posted_run_completes_on_a_burst_worker(queued: Queued, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Answered by arq in burst mode."))
    run_id = await queued.post()
    assert (await queued.run(run_id))["status"] == "queued"

    completed = await queued.run_burst()

    run = await queued.run(run_id)
    received = Received()
    await read_events(queued.api, run_id, received)
    assert completed >= 1
    assert run["status"] == "completed" and run["attempts"] == 1
    assert run["message"]["content"] == "Answered by arq in burst mode."
    assert received.types[0] == "run.started" and received.types[-1] == "run.completed"
    assert received.text() == "Answered by arq in burst mode."
    assert await queued.redis.zcard(QUEUE_NAME) == 0


async def test_enqueueing_a_run_again_never_runs_it_twice(queued: Queued, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Only once."), ScriptedReply(text="A second reply must not happen."))
    run_id = await queued.post()
    again = ArqJobQueue(queued.settings.redis_url or "")
    try:
        for _ in range(2):  # a double submit, a retried request...
            await again.enqueue_run(uuid.UUID(run_id))
        await queued.run_burst()
        await again.enqueue_run(uuid.UUID(run_id))  # ...or one after the run finished
        await queued.run_burst()
    finally:
        await again.close()
    run = await queued.run(run_id)
    assert run["status"] == "completed" and run["attempts"] == 1
    assert run["message"]["content"] == "Only once."
    assert len(llm.requests) == 1


async def left_by_dead_workers(queued: Queued, run_id: str, tries: int) -> None:
    """What `tries` workers killed mid-run leave once their in-progress keys expired: the job
    still queued, arq's try counter, and the run marked running for that many attempts."""
    await queued.redis.set(retry_key_prefix + run_job_id(uuid.UUID(run_id)), tries)
    async with queued.nova.ctx.db.transaction() as session:
        run = await session.get(Run, uuid.UUID(run_id))
        assert run is not None
        run.status, run.attempts, run.started_at = RunStatus.RUNNING, tries, utcnow()


async def test_a_run_whose_worker_died_starts_over_on_the_next(queued: Queued, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Second try."))
    run_id = await queued.post()
    await left_by_dead_workers(queued, run_id, tries=1)

    await queued.run_burst()

    run = await queued.run(run_id)
    received = Received()
    await read_events(queued.api, run_id, received)
    assert run["status"] == "completed" and run["attempts"] == 2
    assert "run.restarted" in received.types and received.types[-1] == "run.completed"
    assert received.text() == "Second try."


async def test_the_last_arq_try_records_why_the_run_failed(queued: Queued, llm: ScriptedLLM) -> None:
    """arq allows one try more than Nova's attempts, so the run ends failed, never stuck running."""
    run_id = await queued.post()
    await left_by_dead_workers(queued, run_id, tries=queued.settings.run_max_attempts)

    await queued.run_burst()

    run = await queued.run(run_id)
    assert run["status"] == "failed"
    assert "interrupted 3 times" in run["error"]
    assert llm.requests == []


async def test_a_waiting_worker_starts_a_run_within_one_short_poll(queued: Queued, llm: ScriptedLLM) -> None:
    worker = queued.worker()
    running = asyncio.create_task(worker.async_run())
    delays = []
    try:
        for _ in range(5):
            llm.queue(ScriptedReply(text="Quick."))
            job = Job(run_job_id(uuid.UUID(await queued.post())), queued.redis, _queue_name=QUEUE_NAME)
            await job.result(timeout=20, poll_delay=0.05)  # raises if the job failed
            info = await job.result_info()
            assert info is not None
            delays.append((info.start_time - info.enqueue_time).total_seconds())
    finally:
        await worker.close()
        with suppress(asyncio.CancelledError):
            await running
    # arq's default 0.5 s poll would start a run 0.25 s late on average.
    assert statistics.median(delays) < 0.15, delays


async def test_nova_worker_check_sees_a_live_worker(queued: Queued) -> None:
    assert await asyncio.to_thread(check_worker, queued.settings) == 1
    worker = queued.worker()
    running = asyncio.create_task(worker.async_run())
    try:
        for _ in range(200):
            if await queued.redis.exists(worker.health_check_key):
                break
            await asyncio.sleep(0.05)
        assert await asyncio.to_thread(check_worker, queued.settings) == 0
    finally:
        # Closing cancels a job still going (the start-up cron job) and arq re-raises that.
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        await worker.close()
        with suppress(asyncio.CancelledError):
            await running
    assert await asyncio.to_thread(check_worker, queued.settings) == 1
