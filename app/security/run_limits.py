"""How many runs a user may start per window: what costs money is limited on its own.

A sliding window (a log of start times per user): with Redis a sorted set updated by one
Lua script, so every web process shares it and a check-and-record is atomic; embedded,
the same log in this process. The browser, `/api/v1` and `/v1` all start runs through
the same check, so the limit is the same wherever a run is started from. When Redis
fails, this process keeps its own log until Redis answers again: starting a run never
depends on the limiter being reachable.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.settings import Settings

log = logging.getLogger(__name__)

POLICY_NAME = "runs"
REDIS_TIMEOUT_SECONDS = 2.0
REDIS_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    window_seconds: int
    remaining: int
    reset_seconds: int  # until a start leaves the window (the wait, when refused)

    def headers(self) -> dict[str, str]:
        """RFC 9110 `Retry-After` when refused, and the IETF draft's RateLimit fields."""
        fields = {
            "RateLimit-Policy": f'"{POLICY_NAME}";q={self.limit};w={self.window_seconds}',
            "RateLimit": f'"{POLICY_NAME}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            fields["Retry-After"] = str(max(1, self.reset_seconds))
        return fields


class RunStartLimiter(Protocol):
    async def try_start(self, user_id: uuid.UUID) -> Decision: ...
    async def close(self) -> None: ...


class MemoryRunStartLimiter:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit, self.window = limit, window_seconds
        self._starts: dict[uuid.UUID, deque[float]] = {}

    async def try_start(self, user_id: uuid.UUID) -> Decision:
        now = time.monotonic()
        starts = self._starts.setdefault(user_id, deque())
        while starts and starts[0] <= now - self.window:
            starts.popleft()
        allowed = len(starts) < self.limit
        if allowed:
            starts.append(now)
        reset = starts[0] + self.window - now if starts else 0.0
        return Decision(allowed, self.limit, self.window, self.limit - len(starts), math.ceil(reset))

    async def close(self) -> None:
        pass


# KEYS[1] the user's log; ARGV: now (ms), window (ms), limit, a unique member.
# Returns {allowed (0/1), starts in the window, ms until the oldest leaves it}.
_TRY_START = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = 0
if oldest[2] then reset = tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1]) end
return {allowed, count, reset}
"""


class RedisRunStartLimiter:
    def __init__(self, url: str, limit: int, window_seconds: int) -> None:
        self.limit, self.window = limit, window_seconds
        self.redis: Redis = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                           socket_connect_timeout=REDIS_TIMEOUT_SECONDS)  # fmt: skip
        self._script = self.redis.register_script(_TRY_START)

    async def try_start(self, user_id: uuid.UUID) -> Decision:
        now_ms = int(time.time() * 1000)
        key = f"nova:run-starts:{user_id}"
        allowed, count, reset_ms = await self._script(
            keys=[key], args=[now_ms, self.window * 1000, self.limit, uuid.uuid4().hex]
        )
        return Decision(bool(allowed), self.limit, self.window, max(0, self.limit - int(count)),
                        math.ceil(int(reset_ms) / 1000))  # fmt: skip

    async def close(self) -> None:
        await self.redis.aclose()


class FallbackRunStartLimiter:
    """Redis while it answers; this process's own log while it does not."""

    def __init__(self, shared: RunStartLimiter, local: RunStartLimiter) -> None:
        self.shared, self.local = shared, local
        self._redis_down_until = 0.0

    async def try_start(self, user_id: uuid.UUID) -> Decision:
        if time.monotonic() >= self._redis_down_until:
            try:
                return await self.shared.try_start(user_id)
            except (RedisError, OSError) as exc:
                log.warning("run-start limits use this process's counts: Redis failed (%s)", type(exc).__name__)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        return await self.local.try_start(user_id)

    async def close(self) -> None:
        await self.shared.close()


def make_run_start_limiter(settings: Settings) -> RunStartLimiter:
    limit, window = settings.run_starts_per_window, settings.run_start_window_seconds
    local = MemoryRunStartLimiter(limit, window)
    if settings.redis_url is None:
        return local
    return FallbackRunStartLimiter(RedisRunStartLimiter(settings.redis_url, limit, window), local)
