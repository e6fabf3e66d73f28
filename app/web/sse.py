"""Server-sent event responses: resume point, heartbeats, send timeouts, bounded lifetime.

Field encoding is sse-starlette's: data is split on CR, LF and CRLF into separate `data:`
lines, so no token (newlines, `\\r`, "event:" text) can end an event or forge another.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request

from app.metrics import observe as metrics
from app.settings import Settings
from app.web.auth import still_authenticated
from app.web.params import parse_number

RECONNECT_MILLISECONDS = 1000
log = logging.getLogger(__name__)


def resume_after(request: Request) -> int:
    """The last event id the client has: the Last-Event-ID header, else ?after=."""
    header = request.headers.get("last-event-id", "").strip()
    if header:
        return parse_number(header, "Last-Event-ID")
    raw = request.query_params.get("after", "")
    return parse_number(raw, "after") if raw else 0


def sse_response(
    request: Request,
    frames: AsyncIterator[ServerSentEvent],
    settings: Settings,
    *,
    headers: Mapping[str, str] | None = None,
    farewell: Sequence[ServerSentEvent] | None = None,
    revoked: Sequence[ServerSentEvent] = (),
) -> EventSourceResponse:
    """Every event stream Nova serves: heartbeats, a send timeout, at most one lifetime long,
    and no longer than the session or token that opened it.

    Nova's own streams resume: they ask the client to reconnect after a second, and with
    Last-Event-ID it misses nothing. A client that cannot resume (OpenAI's, on /v1) passes
    the `farewell` frames that end its stream when the lifetime runs out mid-stream, and gets
    no reconnect hint (the openai client would parse one as an empty data event).

    Every `NOVA_SSE_REAUTH_SECONDS` the request's credentials are checked again (a short
    transaction, closed at once, shared by the streams of the same credentials); once they
    fail (user suspended, token revoked, password changed) the stream ends with the
    `revoked` frames. A reconnect then meets the login wall.
    """
    limits = _Limits(settings.sse_max_lifetime_seconds, settings.sse_reauth_seconds)
    checks: SharedChecks | None = getattr(request.app.state, "stream_checks", None)
    fresh_for = settings.sse_reauth_seconds / 2

    def still_valid() -> Awaitable[bool]:
        if checks is None:  # an app without the shared answers (tests of this module)
            return still_authenticated(request)
        return checks.check(_credential_key(request), lambda: still_authenticated(request), fresh_for)

    return EventSourceResponse(
        _bounded(frames, limits, still_valid, farewell, revoked),
        ping=settings.sse_heartbeat_seconds,
        send_timeout=settings.sse_send_timeout_seconds,
        headers={**(headers or {}), "X-Accel-Buffering": "no", "Cache-Control": "no-store"},
    )


class SharedChecks:
    """One credential check at a time per credential, its answer shared for a short while.

    A person with many tabs, or an integration following many runs, holds many streams
    opened with one session or token: re-checking each on its own would cost a database
    transaction per stream per interval (1,000 a second for 2,000 streams).
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._answers: dict[str, tuple[float, asyncio.Future[bool]]] = {}

    def check(self, key: str, run_check: Callable[[], Awaitable[bool]], fresh_for: float) -> Awaitable[bool]:
        loop = asyncio.get_running_loop()
        found = self._answers.get(key)
        if found is not None and found[0] > loop.time() and not _failed(found[1]):
            return asyncio.shield(found[1])
        if len(self._answers) >= self.MAX_ENTRIES:
            self._forget_stale(loop.time())
        answer = asyncio.ensure_future(run_check())
        self._answers[key] = (loop.time() + fresh_for, answer)
        return asyncio.shield(answer)

    def _forget_stale(self, now: float) -> None:
        for key in [key for key, (until, _answer) in self._answers.items() if until <= now]:
            del self._answers[key]


def _failed(answer: asyncio.Future[bool]) -> bool:
    """A check that raised is never shared: the next stream asks again."""
    return answer.done() and (answer.cancelled() or answer.exception() is not None)


def _credential_key(request: Request) -> str:
    """The credentials a stream was opened with (a session cookie or a token), as a digest."""
    raw = f"{request.headers.get('authorization', '')}\n{request.headers.get('cookie', '')}"
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class _Limits:
    lifetime: float
    reauth_every: float


async def _bounded(
    frames: AsyncIterator[ServerSentEvent],
    limits: _Limits,
    still_valid: Callable[[], Awaitable[bool]],
    farewell: Sequence[ServerSentEvent] | None,
    revoked: Sequence[ServerSentEvent],
) -> AsyncIterator[ServerSentEvent]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.lifetime
    next_check = loop.time() + limits.reauth_every
    # The next frame is awaited in a task of its own, so that a credential check can run
    # while it is pending without cancelling the source mid-await.
    pending: asyncio.Task[ServerSentEvent] | None = None
    ending: Sequence[ServerSentEvent] = farewell or ()
    metrics.stream_opened()
    try:
        if farewell is None:
            yield ServerSentEvent(retry=RECONNECT_MILLISECONDS)
        while (now := loop.time()) < deadline:
            if now >= next_check:
                if not await _validates(still_valid):
                    ending = revoked
                    break
                next_check = loop.time() + limits.reauth_every
            if pending is None:
                pending = asyncio.create_task(_next(frames))
            done, _ = await asyncio.wait({pending}, timeout=min(deadline, next_check) - loop.time())
            if not done:
                continue
            arrived, pending = pending, None
            try:
                frame = arrived.result()
            except StopAsyncIteration:
                return
            yield frame
    finally:
        metrics.stream_closed()
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()  # read, so asyncio does not report it: the stream is over
        await frames.aclose()  # type: ignore[attr-defined]
    for frame in ending:
        yield frame


async def _next(frames: AsyncIterator[ServerSentEvent]) -> ServerSentEvent:
    return await anext(frames)


async def _validates(still_valid: Callable[[], Awaitable[bool]]) -> bool:
    """Fail closed: a check that cannot be made ends the stream (Nova's clients resume)."""
    try:
        return await still_valid()
    except Exception as exc:
        log.warning("cannot re-check a stream's credentials (%s); closing it", type(exc).__name__)
        return False
