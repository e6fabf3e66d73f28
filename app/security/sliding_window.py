"""Sliding-window limits: a log of recent hits per key, in Redis or in this process.

One hit may count against several windows at once (an API request against its token's
and its user's): it is recorded in all of them or, when any is full, in none, so a
refused request never uses up what is left of another window. With Redis the logs are
sorted sets updated by one Lua script, shared by every web process and atomic; embedded,
the same logs live in this process. When Redis fails, this process keeps its own logs
until Redis answers again: nothing limited here depends on the limiter being reachable.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 2.0
REDIS_RETRY_SECONDS = 5.0
MEMORY_SWEEP_EVERY = 10_000


@dataclass(frozen=True)
class Policy:
    name: str  # as clients see it in the RateLimit fields
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class WindowState:
    policy: Policy
    remaining: int
    reset_seconds: int  # until a hit leaves the window (the wait, when it is full)

    @property
    def full(self) -> bool:
        return self.remaining <= 0


@dataclass(frozen=True)
class Decision:
    """Whether a hit was let through, and each of its windows after it."""

    allowed: bool
    windows: tuple[WindowState, ...]

    @property
    def binding(self) -> WindowState:
        """The window that refused (the longest wait), else the one with the least left."""
        if not self.allowed:
            return max((w for w in self.windows if w.full), key=lambda w: w.reset_seconds)
        return min(self.windows, key=lambda w: w.remaining)

    @property
    def limit(self) -> int:
        return self.binding.policy.limit

    @property
    def window_seconds(self) -> int:
        return self.binding.policy.window_seconds

    @property
    def remaining(self) -> int:
        return self.binding.remaining

    @property
    def reset_seconds(self) -> int:
        return self.binding.reset_seconds

    def headers(self) -> dict[str, str]:
        """RFC 9110 `Retry-After` when refused, and the IETF draft's RateLimit fields."""
        fields = {
            "RateLimit-Policy": ", ".join(f'"{w.policy.name}";q={w.policy.limit};w={w.policy.window_seconds}'
                                          for w in self.windows),
            "RateLimit": ", ".join(f'"{w.policy.name}";r={w.remaining};t={w.reset_seconds}' for w in self.windows),
        }  # fmt: skip
        if not self.allowed:
            fields["Retry-After"] = str(max(1, self.reset_seconds))
        return fields


# Which windows one hit counts against: (key, policy) pairs.
Hit = Sequence[tuple[str, Policy]]


class SlidingWindows(Protocol):
    async def hit(self, windows: Hit) -> Decision: ...
    async def close(self) -> None: ...


class MemoryWindows:
    def __init__(self) -> None:
        self._logs: dict[str, deque[float]] = {}
        self._longest = 0
        self._hits = 0

    async def hit(self, windows: Hit) -> Decision:
        now = time.monotonic()
        logs = [self._log(key, policy.window_seconds, now) for key, policy in windows]
        allowed = all(len(entries) < policy.limit for entries, (_, policy) in zip(logs, windows, strict=True))
        states = []
        for entries, (_, policy) in zip(logs, windows, strict=True):
            if allowed:
                entries.append(now)
            reset = entries[0] + policy.window_seconds - now if entries else 0.0
            states.append(WindowState(policy, max(0, policy.limit - len(entries)), math.ceil(reset)))
        self._longest = max(self._longest, *(policy.window_seconds for _, policy in windows))
        self._hits += 1
        if self._hits % MEMORY_SWEEP_EVERY == 0:  # keys nobody uses any more
            self._logs = {k: e for k, e in self._logs.items() if e and e[-1] > now - self._longest}
        return Decision(allowed, tuple(states))

    def _log(self, key: str, window_seconds: int, now: float) -> deque[float]:
        entries = self._logs.setdefault(key, deque())
        while entries and entries[0] <= now - window_seconds:
            entries.popleft()
        return entries

    async def close(self) -> None:
        self._logs.clear()


# KEYS: one log per window. ARGV: now (ms), a unique member, then each key's window (ms)
# and limit. The hit goes into every log when none is full, else into none.
# Returns {allowed (0/1), then per key: hits in the window, ms until the oldest leaves it}.
_HIT = """
local now = tonumber(ARGV[1])
local allowed = 1
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[1 + 2 * i]))
  counts[i] = redis.call('ZCARD', key)
  if counts[i] >= tonumber(ARGV[2 + 2 * i]) then allowed = 0 end
end
local result = {allowed}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[1 + 2 * i])
  if allowed == 1 then
    redis.call('ZADD', key, now, ARGV[2])
    counts[i] = counts[i] + 1
  end
  redis.call('PEXPIRE', key, window)
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local reset = 0
  if oldest[2] then reset = tonumber(oldest[2]) + window - now end
  result[#result + 1] = counts[i]
  result[#result + 1] = reset
end
return result
"""


class RedisWindows:
    """Logs shared by every web process; keys are `nova:` + the caller's key."""

    def __init__(self, url: str) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                           socket_connect_timeout=REDIS_TIMEOUT_SECONDS)  # fmt: skip
        self._script = self.redis.register_script(_HIT)

    async def hit(self, windows: Hit) -> Decision:
        args: list[int | str] = [int(time.time() * 1000), uuid.uuid4().hex]
        for _, policy in windows:
            args += [policy.window_seconds * 1000, policy.limit]
        allowed, *counts = await self._script(keys=[f"nova:{key}" for key, _ in windows], args=args)
        states = tuple(
            WindowState(policy, max(0, policy.limit - int(counts[2 * i])), math.ceil(int(counts[2 * i + 1]) / 1000))
            for i, (_, policy) in enumerate(windows)
        )
        return Decision(bool(allowed), states)

    async def close(self) -> None:
        await self.redis.aclose()


class FallbackWindows:
    """Redis while it answers; this process's own logs while it does not."""

    def __init__(self, shared: SlidingWindows, local: SlidingWindows, purpose: str) -> None:
        self.shared, self.local, self.purpose = shared, local, purpose
        self._redis_down_until = 0.0

    async def hit(self, windows: Hit) -> Decision:
        if time.monotonic() >= self._redis_down_until:
            try:
                return await self.shared.hit(windows)
            except (RedisError, OSError) as exc:
                log.warning("%s use this process's counts: Redis failed (%s)", self.purpose, type(exc).__name__)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        return await self.local.hit(windows)

    async def close(self) -> None:
        await self.local.close()
        try:
            await self.shared.close()
        except (RedisError, OSError):
            pass


def make_windows(redis_url: str | None, purpose: str) -> SlidingWindows:
    """In this process when embedded; in Redis, with this process's logs as the fallback, when scaled."""
    local = MemoryWindows()
    if redis_url is None:
        return local
    return FallbackWindows(RedisWindows(redis_url), local, purpose)
