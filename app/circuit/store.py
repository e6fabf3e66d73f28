"""Where the provider circuit breakers (app/circuit/breaker.py) keep their state: this
process's memory when embedded, Redis when scaled. Times are epoch seconds passed in by the
caller (one clock for every process, and a fake one in tests)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

KEEP_SECONDS = 86_400  # an open breaker nobody asks about any more is forgotten after a day


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    PROBE = "probe"  # half-open, and this caller holds the one probe slot
    PROBING = "probing"  # half-open, and another run is the probe


@dataclass(frozen=True)
class Admission:
    state: State
    open_until: float = 0.0


class BreakerStore(Protocol):
    async def admit(self, pid: str, now: float, probe_seconds: float) -> Admission: ...
    async def reset(self, pid: str) -> bool: ...  # True when it was open
    async def reopen(self, pid: str, until: float) -> bool: ...
    async def count_failure(self, pid: str, now: float, limit: int, open_seconds: float, window: float) -> bool: ...
    async def release_probe(self, pid: str) -> None: ...
    async def open_until(self, pids: list[str]) -> dict[str, float]: ...
    async def close(self) -> None: ...


@dataclass
class _Entry:
    failures: int = 0
    window_ends: float = 0.0
    open_until: float | None = None
    probe_until: float = 0.0


class MemoryStore:
    """One process's breakers; every method runs without awaiting, so each is atomic."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    async def admit(self, pid: str, now: float, probe_seconds: float) -> Admission:
        entry = self._entries.get(pid)
        if entry is None or entry.open_until is None:
            return Admission(State.CLOSED)
        if now < entry.open_until:
            return Admission(State.OPEN, entry.open_until)
        if now < entry.probe_until:
            return Admission(State.PROBING, entry.open_until)
        entry.probe_until = now + probe_seconds
        return Admission(State.PROBE, entry.open_until)

    async def reset(self, pid: str) -> bool:
        entry = self._entries.pop(pid, None)
        return entry is not None and entry.open_until is not None

    async def reopen(self, pid: str, until: float) -> bool:
        entry = self._entries.setdefault(pid, _Entry())
        entry.open_until, entry.probe_until = until, 0.0
        return True

    async def count_failure(self, pid: str, now: float, limit: int, open_seconds: float, window: float) -> bool:
        entry = self._entries.setdefault(pid, _Entry())
        if now >= entry.window_ends:
            entry.failures, entry.window_ends = 0, now + window
        entry.failures += 1
        if entry.failures >= limit and entry.open_until is None:
            entry.open_until = now + open_seconds
            return True
        return False

    async def release_probe(self, pid: str) -> None:
        if entry := self._entries.get(pid):
            entry.probe_until = 0.0

    async def open_until(self, pids: list[str]) -> dict[str, float]:
        found = {pid: self._entries.get(pid) for pid in pids}
        return {pid: e.open_until for pid, e in found.items() if e is not None and e.open_until is not None}

    async def close(self) -> None:
        self._entries.clear()


# KEYS: open-until, probe slot. ARGV: now (ms), probe TTL (ms). Returns {state, open-until (ms)}.
_ADMIT = """
local opened = redis.call('GET', KEYS[1])
if not opened then return {0, 0} end
if tonumber(ARGV[1]) < tonumber(opened) then return {1, opened} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return {2, opened} end
return {3, opened}
"""
# KEYS: failures (a hash: n, since), open-until. ARGV: now (ms), limit, open until (ms), window (ms),
# keep (ms); times go in as strings (a Lua number would print as 1.8e+12). The window is judged
# by the caller's clock; the TTL only cleans up.
# Returns 1 when this failure opened the breaker.
_FAIL = """
local now = tonumber(ARGV[1])
local since = tonumber(redis.call('HGET', KEYS[1], 'since') or '0')
local n = 1
if now >= since + tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'since', ARGV[1], 'n', 1)
else
  n = redis.call('HINCRBY', KEYS[1], 'n', 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if n >= tonumber(ARGV[2]) and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[5])
  return 1
end
return 0
"""
_STATES = {0: State.CLOSED, 1: State.OPEN, 2: State.PROBE, 3: State.PROBING}


class RedisStore:
    """Keys nova:breaker:<provider id>:failures / :open (until, in ms) / :probe (the slot)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._admit = redis.register_script(_ADMIT)
        self._fail = redis.register_script(_FAIL)

    @staticmethod
    def _key(pid: str, part: str) -> str:
        return f"nova:breaker:{pid}:{part}"

    async def admit(self, pid: str, now: float, probe_seconds: float) -> Admission:
        keys = [self._key(pid, "open"), self._key(pid, "probe")]
        state, opened = await self._admit(keys=keys, args=[_ms(now), _ms(probe_seconds)])
        return Admission(_STATES[int(state)], int(opened) / 1000)

    async def reset(self, pid: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.exists(self._key(pid, "open"))
            pipe.delete(self._key(pid, "failures"), self._key(pid, "open"), self._key(pid, "probe"))
            was_open, _ = await pipe.execute()
        return bool(was_open)

    async def reopen(self, pid: str, until: float) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(pid, "open"), _ms(until), px=KEEP_SECONDS * 1000)
            pipe.delete(self._key(pid, "probe"))
            await pipe.execute()
        return True

    async def count_failure(self, pid: str, now: float, limit: int, open_seconds: float, window: float) -> bool:
        keys = [self._key(pid, "failures"), self._key(pid, "open")]
        args = [_ms(now), limit, _ms(now + open_seconds), _ms(window), KEEP_SECONDS * 1000]
        return bool(await self._fail(keys=keys, args=args))

    async def release_probe(self, pid: str) -> None:
        await self.redis.delete(self._key(pid, "probe"))

    async def open_until(self, pids: list[str]) -> dict[str, float]:
        values = await self.redis.mget([self._key(pid, "open") for pid in pids])
        return {pid: int(v) / 1000 for pid, v in zip(pids, values, strict=True) if v is not None}

    async def close(self) -> None:
        await self.redis.aclose()


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
