"""arq worker: the same job functions the embedded mode runs in-process."""

from __future__ import annotations

from typing import Any

from arq import run_worker as arq_run_worker
from arq.connections import RedisSettings
from arq.worker import check_health

from app.context import open_context
from app.settings import Settings, load_settings

JOB_FUNCTIONS: list[Any] = []


async def startup(ctx: dict[str, Any]) -> None:
    ctx["nova"] = open_context(load_settings())


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["nova"].close()


def worker_settings(settings: Settings) -> dict[str, Any]:
    assert settings.redis_url
    return {
        "functions": JOB_FUNCTIONS,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": "nova:queue",
        "handle_signals": True,
    }


def run_worker(settings: Settings) -> None:
    arq_run_worker(type("WorkerSettings", (), worker_settings(settings)))


def check_worker(settings: Settings) -> int:
    """0 when a worker has recently written its health key (for container healthchecks)."""
    return check_health(type("WorkerSettings", (), worker_settings(settings)))
