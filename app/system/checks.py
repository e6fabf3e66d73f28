"""Probes of Nova's dependencies, each bounded in time: a dead Redis or bucket shows as
"unreachable" within seconds instead of holding the page."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text

from app.db import Database
from app.queue import QUEUE_NAME
from app.storage import ObjectStorage
from app.storage.local import LocalStorage
from app.system import heartbeat

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0
ARQ_HEALTH_KEY = QUEUE_NAME + ":health-check"  # arq's own, one per queue
_COUNTER = re.compile(r"(j_complete|j_failed|j_retried|j_ongoing|queued)=(\d+)")


@dataclass
class Probe:
    ok: bool
    latency_ms: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


async def probe(name: str, check: Callable[[], Awaitable[dict[str, Any]]]) -> Probe:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            detail = await check()
    except Exception as exc:
        log.warning("system check: %s unreachable: %s", name, type(exc).__name__)
        return Probe(ok=False)
    return Probe(ok=True, latency_ms=(time.perf_counter() - started) * 1000, detail=detail)


async def database(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {}


async def redis(url: str) -> dict[str, Any]:
    """Ping, memory, arq's queue and health line, and every worker's heartbeat, on one
    connection of its own (never the app's pools, which may be waiting on a dead server)."""
    client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        await client.ping()
        started = time.perf_counter()
        await client.ping()
        latency_ms = (time.perf_counter() - started) * 1000  # a round trip, not the connect
        memory = await client.info("memory")
        health = await client.get(ARQ_HEALTH_KEY)
        return {
            "round_trip_ms": latency_ms,
            "used_memory": memory.get("used_memory_human", ""),
            "queue_length": int(await client.zcard(QUEUE_NAME)),
            "arq_health": parse_arq_health(health.decode() if health else None),
            "workers": await heartbeat.read_all(client),
        }
    finally:
        await client.aclose()


def parse_arq_health(line: str | None) -> dict[str, int] | None:
    """arq's "… j_complete=3 j_failed=0 j_retried=0 j_ongoing=1 queued=0" as numbers."""
    if line is None:
        return None
    return {name: int(value) for name, value in _COUNTER.findall(line)}


async def storage(store: ObjectStorage) -> dict[str, Any]:
    if isinstance(store, LocalStorage):
        return await asyncio.to_thread(_local_writable, store.root)
    from app.storage.s3 import S3Storage

    assert isinstance(store, S3Storage)
    client = await store._s3()  # the storage's own client: the same credentials and endpoint
    await client.head_bucket(Bucket=store.bucket)
    return {}


def _local_writable(root: Path) -> dict[str, Any]:
    # The files directory appears with the first upload; until then its parent must take it.
    target = root if root.exists() else root.parent
    if not (target.is_dir() and os.access(target, os.W_OK | os.X_OK)):
        raise PermissionError(f"{target} is not a writable directory")
    return {"created": root.exists()}
