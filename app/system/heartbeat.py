"""Each `nova worker` says it is alive under a key of its own.

arq's health-check key is one per queue, so with two workers the last writer hides the
other. Every worker therefore also writes `nova:worker:<host>-<pid>` every 30 s, expiring
after 90 s: a worker that died disappears from the System page within a minute and a half.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger(__name__)

KEY_PREFIX = "nova:worker:"
INTERVAL_SECONDS = 30
TTL_SECONDS = 90


@dataclass(frozen=True)
class Heartbeat:
    name: str
    started_at: float
    last_seen: float
    running: int


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def publish(redis: Redis, name: str, started_at: float, running: int) -> None:
    body = {"started_at": started_at, "last_seen": time.time(), "running": running}
    await redis.set(KEY_PREFIX + name, json.dumps(body), ex=TTL_SECONDS)


async def beat(redis: Redis, name: str, running: set[str]) -> None:
    """Until cancelled; a Redis outage skips beats rather than ending the loop."""
    started_at = time.time()
    while True:
        try:
            await publish(redis, name, started_at, len(running))
        except Exception as exc:  # the next beat tries again; the worker itself carries on
            log.warning("worker heartbeat not written: %s", type(exc).__name__)
        await asyncio.sleep(INTERVAL_SECONDS)


async def forget(redis: Redis, name: str) -> None:
    """A worker that stops cleanly leaves at once instead of 90 s later."""
    await redis.delete(KEY_PREFIX + name)


async def read_all(redis: Redis) -> list[Heartbeat]:
    keys = [key async for key in redis.scan_iter(match=KEY_PREFIX + "*", count=100)]
    values = await redis.mget(keys) if keys else []
    beats = []
    for key, value in zip(keys, values, strict=True):
        if value is None:  # expired between the scan and the read
            continue
        body: dict[str, Any] = json.loads(value)
        name = (key.decode() if isinstance(key, bytes) else str(key)).removeprefix(KEY_PREFIX)
        beats.append(Heartbeat(name, float(body["started_at"]), float(body["last_seen"]), int(body["running"])))
    return sorted(beats, key=lambda heartbeat: heartbeat.name)
