"""The event writer's time coalescing: fewer events, never lost, reordered or doubled text."""

from __future__ import annotations

import asyncio
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.events import MemoryEventLog, RunEvent
from app.events.types import EventType
from app.events.writer import EventWriter

# A token, how long the model takes before the next one (ms), and whether a tool step
# (another event) comes right after it.
steps = st.lists(
    st.tuples(st.text(min_size=1, max_size=4), st.sampled_from([0, 0, 0, 1, 3, 8]), st.booleans()),
    min_size=1,
    max_size=60,
)


async def write(tokens: list[tuple[str, int, bool]], window_ms: int) -> list[RunEvent]:
    log = MemoryEventLog(ttl_seconds=60)
    writer = EventWriter(log, "r", 0, window_ms / 1000)
    for n, (text, pause_ms, step_after) in enumerate(tokens):
        writer.delta(text)
        if step_after:
            await writer.emit(EventType.TOOL_STARTED, {"after": n})
        if pause_ms:
            await asyncio.sleep(pause_ms / 1000)
    await writer.emit(EventType.RUN_COMPLETED, {})
    return await log.read_after("r", 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=steps, window_ms=st.sampled_from([0, 1, 5, 20]))
def test_coalescing_keeps_every_token_in_order_once(tokens: list[tuple[str, int, bool]], window_ms: int) -> None:
    events = asyncio.run(write(tokens, window_ms))
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == EventType.RUN_COMPLETED
    text = "".join(e.data["text"] for e in events if e.type == EventType.MESSAGE_DELTA)
    assert text == "".join(token for token, _pause, _step in tokens)
    # A step event comes after every token written before it, and before every later one.
    seen = ""
    for event in events:
        if event.type == EventType.MESSAGE_DELTA:
            seen += event.data["text"]
        elif event.type == EventType.TOOL_STARTED:
            assert seen == "".join(token for token, _p, _s in tokens[: event.data["after"] + 1])


async def test_the_first_token_goes_out_at_once_and_a_burst_becomes_few_events() -> None:
    log = MemoryEventLog(ttl_seconds=60)
    writer = EventWriter(log, "r", 0, 0.05)
    started = time.monotonic()
    writer.delta("first ")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert [e.data["text"] for e in await log.read_after("r", 0)] == ["first "]
    assert time.monotonic() - started < 0.02
    for n in range(1000):
        writer.delta(f"t{n} ")
        if n % 100 == 0:
            await asyncio.sleep(0.01)  # a fast model: 1,000 tokens in about 0.1 s
    await writer.emit(EventType.RUN_COMPLETED, {})
    deltas = [e for e in await log.read_after("r", 0) if e.type == EventType.MESSAGE_DELTA]
    assert 2 <= len(deltas) <= 5
    assert "".join(e.data["text"] for e in deltas) == "first " + "".join(f"t{n} " for n in range(1000))


async def test_a_final_event_does_not_wait_out_the_window() -> None:
    log = MemoryEventLog(ttl_seconds=60)
    writer = EventWriter(log, "r", 0, 5.0)
    writer.delta("a")
    await asyncio.sleep(0.01)
    writer.delta("b")
    started = time.monotonic()
    await writer.emit(EventType.RUN_COMPLETED, {})
    assert time.monotonic() - started < 0.5
    assert [e.data.get("text") for e in await log.read_after("r", 0)] == ["a", "b", None]
