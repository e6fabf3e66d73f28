"""Long-lived resources opened once at start-up and handed to requests and jobs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.circuit.breaker import ProviderBreaker, make_breaker
from app.db import Database
from app.events import EventLog, make_event_log
from app.queue import ArqJobQueue, InProcessJobQueue, JobQueue
from app.security.api_limits import ApiLimiter, make_api_limiter
from app.security.keys import Keys, load_keys
from app.security.ratelimit import LoginLimiter, make_login_limiter
from app.security.run_limits import RunStartLimiter, make_run_start_limiter
from app.security.secretbox import SecretBox
from app.settings import Settings
from app.storage import ObjectStorage, make_storage

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

RunExecutor = Callable[["AppContext", uuid.UUID], Awaitable[None]]


@dataclass
class AppContext:
    settings: Settings
    db: Database
    keys: Keys
    secretbox: SecretBox
    login_limiter: LoginLimiter
    run_limiter: RunStartLimiter
    api_limiter: ApiLimiter
    events: EventLog
    storage: ObjectStorage  # files: local disk, or S3 when S3_BUCKET is set
    breaker: ProviderBreaker  # providers' circuit breakers: in Redis when scaled
    jobs: JobQueue = field(init=False)
    _resources: AsyncExitStack = field(default_factory=AsyncExitStack)
    _checkpointer: BaseCheckpointSaver[Any] | None = None
    _checkpointer_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def checkpointer(self) -> BaseCheckpointSaver[Any]:
        """Opened on first use: only processes that execute runs need it."""
        async with self._checkpointer_lock:
            if self._checkpointer is None:
                from app.agents.checkpoints import open_checkpointer  # langgraph: where runs execute

                opened = open_checkpointer(self.settings.resolved_database_url)
                self._checkpointer = await self._resources.enter_async_context(opened)
            return self._checkpointer

    async def close(self) -> None:
        await self.jobs.close()
        await self._resources.aclose()
        await self.events.close()
        await self.storage.close()
        await self.login_limiter.close()
        await self.run_limiter.close()
        await self.api_limiter.close()
        await self.breaker.close()
        await self.db.dispose()


def open_context(settings: Settings, run_executor: RunExecutor | None = None) -> AppContext:
    """Open everything; `run_executor` runs jobs in-process when there is no Redis."""
    keys = load_keys(settings)
    ctx = AppContext(
        settings=settings,
        db=Database(settings.resolved_database_url),
        keys=keys,
        secretbox=SecretBox(keys.encryption_key),
        login_limiter=make_login_limiter(settings),
        run_limiter=make_run_start_limiter(settings),
        api_limiter=make_api_limiter(settings),
        events=make_event_log(settings),
        storage=make_storage(settings),
        breaker=make_breaker(settings),
    )
    if settings.redis_url:
        ctx.jobs = ArqJobQueue(settings.redis_url)
    else:
        execute = run_executor or _no_executor
        ctx.jobs = InProcessJobQueue(settings.run_concurrency, lambda run_id: execute(ctx, run_id))
    return ctx


async def _no_executor(ctx: AppContext, run_id: uuid.UUID) -> None:
    raise RuntimeError("this process was opened without a run executor")
