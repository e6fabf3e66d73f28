"""arq worker: the same job functions the embedded mode runs in-process.

This is arq's own `Worker`, configured and nothing more, so burst mode, signals, job
timeouts and retries behave as arq documents them. A run starts within one poll of being
enqueued: an idle poll is one ZRANGEBYSCORE, so polling every 20 ms costs Redis about 50
commands a second per worker, and adds 10 ms on average to the time to first token.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any, cast

from arq import Worker
from arq.connections import RedisSettings
from arq.cron import cron
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import check_health, func
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.context import AppContext, open_context
from app.files.tasks import expire_files_job
from app.queue import QUEUE_NAME, RUN_JOB
from app.runs.tasks import execute, expire_paused_runs, run_job
from app.settings import Settings
from app.system import heartbeat

POLL_DELAY_SECONDS = 0.02


async def embedded_executor(ctx: AppContext, run_id: uuid.UUID) -> None:
    """The embedded mode's job runner calls the very same function as arq."""
    await run_job(ctx, run_id)


def _redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    # Ride out a Redis restart instead of crashing the worker: every command arq sends
    # (polls included) retries with backoff for about half a minute.
    settings.conn_retries = 30
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=20)
    return settings


async def _execute_counted(arq_ctx: dict[str, Any], run_id: str) -> None:
    """`runs.execute`, counted in the worker's heartbeat (each job's ctx shares the set)."""
    running: set[str] = arq_ctx["running_runs"]
    running.add(run_id)
    try:
        await execute(arq_ctx, run_id)
    finally:
        running.discard(run_id)


def _lifespan(settings: Settings) -> tuple[StartupShutdown, StartupShutdown]:
    """Open Nova's context (database, events, keys) for the jobs, from these settings, and
    start this worker's heartbeat."""

    async def startup(ctx: dict[Any, Any]) -> None:
        ctx["nova"] = open_context(settings)
        ctx["running_runs"] = set()
        ctx["worker_name"] = heartbeat.worker_name()
        ctx["heartbeat"] = asyncio.create_task(heartbeat.beat(ctx["redis"], ctx["worker_name"], ctx["running_runs"]))

    async def shutdown(ctx: dict[Any, Any]) -> None:
        ctx["heartbeat"].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ctx["heartbeat"]
        with contextlib.suppress(Exception):  # Redis gone: the key expires on its own
            await heartbeat.forget(ctx["redis"], ctx["worker_name"])
        await ctx["nova"].close()

    return startup, shutdown


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `arq.Worker` (tests add `burst=True, handle_signals=False`)."""
    assert settings.redis_url
    job_timeout = settings.run_timeout_seconds + 5
    startup, shutdown = _lifespan(settings)
    return {
        # One more arq try than Nova attempts, so the last try can record the failure.
        "functions": [
            func(
                cast(WorkerCoroutine, _execute_counted),
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
            ),
            cron(
                cast(WorkerCoroutine, expire_files_job),
                name="files.expire",
                minute={17},
                run_at_startup=True,
                timeout=job_timeout,
            ),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": _redis_settings(settings.redis_url),
        "queue_name": QUEUE_NAME,
        "max_jobs": settings.run_concurrency,
        # arq re-runs a job whose worker died once the longest job timeout (+10 s) passed:
        # every job here must stay within the run timeout, or a crash is noticed too late.
        "job_timeout": job_timeout,
        "poll_delay": POLL_DELAY_SECONDS,
        "keep_result": 60,
        # `nova worker --check` (the container healthcheck) trusts a key refreshed this often.
        "health_check_interval": 30,
        "handle_signals": True,
    }


def run_worker(settings: Settings) -> None:
    Worker(**worker_settings(settings)).run()


def check_worker(settings: Settings) -> int:
    """0 when a worker has recently written its health key (for container healthchecks)."""
    return check_health(type("WorkerSettings", (), worker_settings(settings)))
