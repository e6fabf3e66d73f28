"""How many runs a user may start per window: what costs money is limited on its own.

A sliding window (a log of start times per user, app/security/sliding_window.py): with
Redis a sorted set updated by one Lua script, so every web process shares it and a
check-and-record is atomic; embedded, the same log in this process. The browser,
`/api/v1` and `/v1` all start runs through the same check, so the limit is the same
wherever a run is started from. When Redis fails, this process keeps its own log until
Redis answers again: starting a run never depends on the limiter being reachable.
"""

from __future__ import annotations

import uuid

from app.security.sliding_window import (
    Decision,
    FallbackWindows,
    MemoryWindows,
    Policy,
    RedisWindows,
    SlidingWindows,
    make_windows,
)
from app.settings import Settings

POLICY_NAME = "runs"
PURPOSE = "run-start limits"


class RunStartLimiter:
    def __init__(self, windows: SlidingWindows, limit: int, window_seconds: int) -> None:
        self.windows = windows
        self.policy = Policy(POLICY_NAME, limit, window_seconds)

    async def try_start(self, user_id: uuid.UUID) -> Decision:
        return await self.windows.hit([(f"run-starts:{user_id}", self.policy)])

    async def close(self) -> None:
        await self.windows.close()


class MemoryRunStartLimiter(RunStartLimiter):
    def __init__(self, limit: int, window_seconds: int) -> None:
        super().__init__(MemoryWindows(), limit, window_seconds)


class RedisRunStartLimiter(RunStartLimiter):
    def __init__(self, url: str, limit: int, window_seconds: int) -> None:
        super().__init__(RedisWindows(url), limit, window_seconds)


class FallbackRunStartLimiter(RunStartLimiter):
    """Redis while it answers; this process's own log while it does not."""

    def __init__(self, shared: RunStartLimiter, local: RunStartLimiter) -> None:
        windows = FallbackWindows(shared.windows, local.windows, PURPOSE)
        super().__init__(windows, shared.policy.limit, shared.policy.window_seconds)


def make_run_start_limiter(settings: Settings) -> RunStartLimiter:
    windows = make_windows(settings.redis_url, PURPOSE)
    return RunStartLimiter(windows, settings.run_starts_per_window, settings.run_start_window_seconds)
