"""Login attempt limits per account and per IP, in-process or shared through Redis."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Protocol

from redis.asyncio import Redis

from app.settings import Settings


class LoginLimiter(Protocol):
    async def is_blocked(self, key: str, limit: int) -> bool: ...
    async def record_failure(self, key: str) -> None: ...
    async def reset(self, key: str) -> None: ...
    async def close(self) -> None: ...


class MemoryLoginLimiter:
    """Sliding window per key; enough for the single-process embedded mode."""

    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures[key]
        cutoff = time.monotonic() - self.window
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures

    async def is_blocked(self, key: str, limit: int) -> bool:
        return len(self._recent(key)) >= limit

    async def record_failure(self, key: str) -> None:
        self._recent(key).append(time.monotonic())

    async def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    async def close(self) -> None:
        self._failures.clear()


class RedisLoginLimiter:
    """Fixed window counters shared by every web process."""

    def __init__(self, url: str, window_seconds: int) -> None:
        self.redis: Redis = Redis.from_url(url)
        self.window = window_seconds

    async def is_blocked(self, key: str, limit: int) -> bool:
        count = await self.redis.get(f"nova:login:{key}")
        return count is not None and int(count) >= limit

    async def record_failure(self, key: str) -> None:
        name = f"nova:login:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self.window, nx=True)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self.redis.delete(f"nova:login:{key}")

    async def close(self) -> None:
        await self.redis.aclose()


def make_login_limiter(settings: Settings) -> LoginLimiter:
    if settings.redis_url:
        return RedisLoginLimiter(settings.redis_url, settings.login_window_seconds)
    return MemoryLoginLimiter(settings.login_window_seconds)
