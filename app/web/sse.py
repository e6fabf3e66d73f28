"""Server-sent event responses: resume point, heartbeats, send timeouts, bounded lifetime.

Field encoding is sse-starlette's: data is split on CR, LF and CRLF into separate `data:`
lines, so no token (newlines, `\\r`, "event:" text) can end an event or forge another.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request

from app.settings import Settings

RECONNECT_MILLISECONDS = 1000


def resume_after(request: Request) -> int:
    """The last event id the client has: the Last-Event-ID header, else ?after=."""
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    return int(raw) if raw.isdigit() else 0


def sse_response(frames: AsyncIterator[ServerSentEvent], settings: Settings) -> EventSourceResponse:
    return EventSourceResponse(
        _bounded(frames, settings.sse_max_lifetime_seconds),
        ping=settings.sse_heartbeat_seconds,
        send_timeout=settings.sse_send_timeout_seconds,
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
    )


async def _bounded(frames: AsyncIterator[ServerSentEvent], lifetime: float) -> AsyncIterator[ServerSentEvent]:
    """End the stream after `lifetime` seconds; the client reconnects with Last-Event-ID."""
    yield ServerSentEvent(retry=RECONNECT_MILLISECONDS)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                frame = await asyncio.wait_for(anext(frames), remaining)
            except (StopAsyncIteration, TimeoutError):
                return
            yield frame
    finally:
        await frames.aclose()  # type: ignore[attr-defined]
