"""Both event log backends: replay then live, exactly once, gaps filled from the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.events import EventLog, MemoryEventLog, RedisEventLog, RunEvent
from app.events.base import LISTENER_BUFFER
from app.events.writer import EventWriter


@pytest.fixture(params=["memory", "redis"])
async def log(request: pytest.FixtureRequest) -> AsyncIterator[EventLog]:
    backend: EventLog
    if request.param == "memory":
        backend = MemoryEventLog(ttl_seconds=60)
    else:
        backend = RedisEventLog(request.getfixturevalue("redis_url"), ttl_seconds=60)
    yield backend
    await backend.close()


async def collect(log: EventLog, run_id: str, after: int = 0, **kwargs: float) -> list[RunEvent]:
    return [event async for event in log.follow(run_id, after, **kwargs)]


async def test_replay_then_live_until_terminal(log: EventLog) -> None:
    writer = EventWriter(log, "r1", 0)
    await writer.emit("run.started", {})
    follower = asyncio.create_task(collect(log, "r1"))
    await asyncio.sleep(0.05)
    for n in range(50):
        writer.delta(f"t{n} ")
    await writer.emit("run.completed", {"content": "x"})
    events = await asyncio.wait_for(follower, 5)
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == "run.completed"
    assert "".join(e.data["text"] for e in events if e.type == "message.delta") == "".join(f"t{n} " for n in range(50))


async def test_resume_from_an_id_skips_what_the_client_has(log: EventLog) -> None:
    writer = EventWriter(log, "r2", 0)
    for n in range(5):
        await writer.emit("message.delta", {"text": str(n)})
    await writer.emit("run.completed", {})
    events = await collect(log, "r2", after=3)
    assert [e.id for e in events] == [4, 5, 6]


async def test_a_gap_in_live_delivery_is_filled_from_the_log(log: EventLog) -> None:
    """Events that reach the log but not the live channel (a lost notification)."""
    follower = asyncio.create_task(collect(log, "r3", resync_seconds=0.2))
    await asyncio.sleep(0.05)
    quiet = MemoryEventLog(ttl_seconds=60) if isinstance(log, MemoryEventLog) else None
    for n in range(1, 4):
        event = RunEvent(n, "message.delta", {"text": str(n)})
        if quiet is None:  # Redis: write to the stream without publishing
            await log.redis.xadd("nova:run:r3:log", {"e": event.to_json()}, id=f"{n}-0")  # type: ignore[attr-defined]
        else:
            log._logs["r3"].append(event)  # type: ignore[attr-defined]
    await log.append("r3", RunEvent(4, "run.completed", {}))
    events = await asyncio.wait_for(follower, 5)
    assert [e.id for e in events] == [1, 2, 3, 4]


async def test_a_slow_follower_overflows_and_catches_up(log: EventLog) -> None:
    events: list[RunEvent] = []

    async def slow() -> None:
        async for event in log.follow("r4", 0, resync_seconds=0.5):
            events.append(event)
            if len(events) == 1:
                await asyncio.sleep(0.5)  # the buffer overflows meanwhile

    follower = asyncio.create_task(slow())
    await asyncio.sleep(0.05)
    total = LISTENER_BUFFER + 200
    for n in range(1, total):
        await log.append("r4", RunEvent(n, "message.delta", {"text": "x"}))
    await log.append("r4", RunEvent(total, "run.completed", {}))
    await asyncio.wait_for(follower, 10)
    assert [e.id for e in events] == list(range(1, total + 1))


async def test_duplicate_appends_are_ignored(log: EventLog) -> None:
    await log.append("r5", RunEvent(1, "message.delta", {"text": "a"}))
    await log.append("r5", RunEvent(1, "message.delta", {"text": "again"}))
    await log.append("r5", RunEvent(2, "run.completed", {}))
    assert [e.data.get("text") for e in await log.read_after("r5", 0)] == ["a", None]
    assert await log.last_id("r5") == 2


async def test_cancel_flag(log: EventLog) -> None:
    assert not await log.cancel_requested("r6")
    await log.request_cancel("r6")
    assert await log.cancel_requested("r6")
    await log.finish("r6")
    assert not await log.cancel_requested("r6")


async def test_one_question_says_which_of_many_runs_were_asked_to_stop(log: EventLog) -> None:
    await log.request_cancel("s2")
    await log.request_cancel("s4")
    assert await log.cancels_among([f"s{n}" for n in range(6)]) == {"s2", "s4"}
    assert await log.cancels_among([]) == set()


async def test_redis_log_expires_after_the_run(redis_url: str) -> None:
    log = RedisEventLog(redis_url, ttl_seconds=1)
    await log.append("r7", RunEvent(1, "run.completed", {}))
    await log.finish("r7")
    await asyncio.sleep(1.3)
    assert await log.read_after("r7", 0) == [] and await log.last_id("r7") == 0
    await log.close()


async def test_one_subscription_serves_every_follower(redis_url: str) -> None:
    log = RedisEventLog(redis_url, ttl_seconds=60)
    followers = [asyncio.create_task(collect(log, f"run{n}")) for n in range(20)]
    await asyncio.sleep(0.2)
    clients = await log.redis.execute_command("PUBSUB", "NUMPAT")
    for n in range(20):
        await log.append(f"run{n}", RunEvent(1, "run.completed", {}))
    results = await asyncio.wait_for(asyncio.gather(*followers), 5)
    assert clients == 1
    assert all(len(events) == 1 for events in results)
    await log.close()
