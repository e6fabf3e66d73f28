"""Redis event log: a Stream per run for replay, pub/sub for live delivery.

Each web process keeps one pattern subscription shared by all its followers. When that
connection breaks (Redis restarted), it reconnects with backoff and tells every follower
to resync from the log; writers retry their appends until Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager, suppress

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.events.base import RESYNC, EventLog, Listener, Listeners, RunEvent

log = logging.getLogger(__name__)

STREAM_MAXLEN = 100_000
CHANNEL_PREFIX = "nova:events:"
APPEND_RETRY_SECONDS = 60.0
TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)


def _stream_key(run_id: str) -> str:
    return f"nova:run:{run_id}:log"


def _cancel_key(run_id: str) -> str:
    return f"nova:run:{run_id}:cancel"


class RedisEventLog(EventLog):
    def __init__(self, url: str, ttl_seconds: int) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self.ttl = ttl_seconds
        self._listeners = Listeners()
        self._dispatcher: asyncio.Task[None] | None = None

    async def append(self, run_id: str, event: RunEvent) -> None:
        """Append and notify in one round trip; wait out a Redis restart (bounded)."""
        deadline = asyncio.get_running_loop().time() + APPEND_RETRY_SECONDS
        delay = 0.05
        while True:
            try:
                await self._append_once(run_id, event)
                return
            except ResponseError as exc:
                if "equal or smaller" in str(exc):
                    return  # this id is already in the log: a duplicate from a retry
                raise
            except TRANSIENT:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _append_once(self, run_id: str, event: RunEvent) -> None:
        payload = event.to_json()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(
                _stream_key(run_id), {"e": payload}, id=f"{event.id}-0",
                maxlen=STREAM_MAXLEN, approximate=True,
            )  # fmt: skip
            pipe.publish(CHANNEL_PREFIX + run_id, payload)
            await pipe.execute()

    async def read_after(self, run_id: str, after: int) -> list[RunEvent]:
        entries = await self.redis.xrange(_stream_key(run_id), min=f"{after + 1}-0", max="+")
        return [RunEvent.from_json(fields[b"e"]) for _id, fields in entries]

    async def last_id(self, run_id: str) -> int:
        entries = await self.redis.xrevrange(_stream_key(run_id), max="+", min="-", count=1)
        return RunEvent.from_json(entries[0][1][b"e"]).id if entries else 0

    async def finish(self, run_id: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.expire(_stream_key(run_id), self.ttl)
            pipe.delete(_cancel_key(run_id))
            await pipe.execute()

    async def request_cancel(self, run_id: str) -> None:
        await self.redis.set(_cancel_key(run_id), b"1", ex=max(self.ttl, 3600))

    async def cancel_requested(self, run_id: str) -> bool:
        return bool(await self.redis.exists(_cancel_key(run_id)))

    async def cancels_among(self, run_ids: list[str]) -> set[str]:
        if not run_ids:
            return set()
        flags = await self.redis.mget([_cancel_key(run_id) for run_id in run_ids])
        return {run_id for run_id, flag in zip(run_ids, flags, strict=True) if flag is not None}

    def listen(self, run_id: str) -> AbstractAsyncContextManager[Listener]:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch_forever())
        return self._listeners.register(run_id)

    async def _dispatch_forever(self) -> None:
        """The process's one pub/sub connection, reconnected whenever it breaks."""
        delay = 0.1
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                self._resync_all()  # anything published while we were away is in the logs
                delay = 0.1
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("event subscription lost (%s); reconnecting", type(exc).__name__)
            finally:
                with suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), 2)  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=5.0)
            if message is None or message.get("type") != "pmessage":
                continue
            run_id = message["channel"].decode()[len(CHANNEL_PREFIX) :]
            self._listeners.offer(run_id, RunEvent.from_json(message["data"]))

    def _resync_all(self) -> None:
        self._listeners.offer_all(RESYNC)

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._dispatcher, 3)
        await self.redis.aclose()
