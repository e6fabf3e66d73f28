"""Where runs are executed: arq workers through Redis, or tasks in this process."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis.exceptions import RedisError

from app.errors import QueueUnavailable

log = logging.getLogger(__name__)

QUEUE_NAME = "nova:queue"
RUN_JOB = "runs.execute"


def run_job_id(run_id: uuid.UUID, step: str | None = None) -> str:
    """Derived from the run (and the step it resumes), so a double submit never runs twice."""
    return f"run:{run_id}" + (f":{step}" if step else "")


class JobQueue(Protocol):
    async def enqueue_run(self, run_id: uuid.UUID, step: str | None = None) -> None: ...
    async def close(self) -> None: ...


class ArqJobQueue:
    def __init__(self, redis_url: str) -> None:
        self.settings = RedisSettings.from_dsn(redis_url)
        self.settings.conn_timeout = 2
        self.settings.conn_retries = 0
        self._pool: ArqRedis | None = None

    async def _get_pool(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(self.settings, default_queue_name=QUEUE_NAME)
        return self._pool

    async def enqueue_run(self, run_id: uuid.UUID, step: str | None = None) -> None:
        try:
            pool = await self._get_pool()
            await pool.enqueue_job(RUN_JOB, str(run_id), _job_id=run_job_id(run_id, step))
        except (RedisError, OSError) as exc:
            raise QueueUnavailable(str(exc)) from exc

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


class InProcessJobQueue:
    """The embedded mode: the same job function, as tasks, with a concurrency limit."""

    def __init__(self, concurrency: int, execute: Callable[[uuid.UUID], Awaitable[None]]) -> None:
        self._semaphore = asyncio.Semaphore(concurrency)
        self._execute = execute
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def enqueue_run(self, run_id: uuid.UUID, step: str | None = None) -> None:
        if run_id in self._tasks:
            return
        task = asyncio.create_task(self._run(run_id), name=run_job_id(run_id))
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))

    async def _run(self, run_id: uuid.UUID) -> None:
        async with self._semaphore:
            try:
                await self._execute(run_id)
            except Exception:
                log.exception("run %s crashed", run_id)

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
