"""arq worker: the same job functions the embedded mode runs in-process.

arq polls its queue; Nova's worker also listens for a wake-up published with each
enqueue, so a run starts within milliseconds instead of after the next poll.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import suppress
from typing import Any, cast

from arq import Worker
from arq.connections import RedisSettings
from arq.cron import cron
from arq.typing import WorkerCoroutine
from arq.utils import poll
from arq.worker import check_health, func
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.context import AppContext, open_context
from app.queue import QUEUE_NAME, RUN_JOB, WAKE_CHANNEL
from app.runs.tasks import execute, expire_paused_runs, run_job
from app.settings import Settings, load_settings

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0


async def embedded_executor(ctx: AppContext, run_id: uuid.UUID) -> None:
    """The embedded mode's job runner calls the very same function as arq."""
    await run_job(ctx, run_id)


class NovaWorker(Worker):
    """arq's worker, woken by a pub/sub message instead of waiting for its next poll."""

    async def main(self) -> None:
        if self._pool is None:
            from arq import create_pool

            self._pool = await create_pool(
                self.redis_settings, default_queue_name=self.queue_name,
                expires_extra_ms=self.expires_extra_ms,
            )  # fmt: skip
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        wake = asyncio.Event()
        listener = asyncio.create_task(self._listen_for_wake(wake))
        try:
            async for _ in poll(0):
                try:
                    await self._poll_iteration()
                except (RedisError, OSError) as exc:
                    log.warning("worker lost Redis (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(0.5)
                with suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.poll_delay_s)
                wake.clear()
        finally:
            listener.cancel()

    async def _listen_for_wake(self, wake: asyncio.Event) -> None:
        while True:
            try:
                pubsub = self.pool.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(WAKE_CHANNEL)
                while True:
                    if await pubsub.get_message(timeout=5.0):
                        wake.set()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                await asyncio.sleep(0.5)


def _redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    # Ride out a Redis restart instead of crashing the worker.
    settings.conn_retries = 30
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=20)
    return settings


async def startup(ctx: dict[str, Any]) -> None:
    ctx["nova"] = open_context(load_settings())


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["nova"].close()


def worker_settings(settings: Settings) -> dict[str, Any]:
    assert settings.redis_url
    job_timeout = settings.run_timeout_seconds + 5
    return {
        # One more arq try than Nova attempts, so the last try can record the failure.
        "functions": [
            func(
                cast(WorkerCoroutine, execute),
                name=RUN_JOB,
                timeout=job_timeout,
                max_tries=settings.run_max_attempts + 1,
            )
        ],
        "cron_jobs": [
            cron(
                cast(WorkerCoroutine, expire_paused_runs),
                name="runs.expire_paused",
                minute=set(range(60)),
                run_at_startup=True,
                timeout=job_timeout,
            )
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": _redis_settings(settings.redis_url),
        "queue_name": QUEUE_NAME,
        "max_jobs": settings.run_concurrency,
        # arq re-runs a job whose worker died once the longest job timeout (+10 s) passed:
        # every job here must stay within the run timeout, or a crash is noticed too late.
        "job_timeout": job_timeout,
        "poll_delay": IDLE_POLL_SECONDS,
        "keep_result": 60,
        "handle_signals": True,
    }


def run_worker(settings: Settings) -> None:
    worker = NovaWorker(**worker_settings(settings))
    worker.run()


def check_worker(settings: Settings) -> int:
    """0 when a worker has recently written its health key (for container healthchecks)."""
    return check_health(type("WorkerSettings", (), worker_settings(settings)))
