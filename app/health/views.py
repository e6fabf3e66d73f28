"""Probes, no auth: GET /healthz (the process answers) and GET /readyz (its dependencies do)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from redis.asyncio import Redis
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import __version__
from app.context import AppContext
from app.web.deps import app_context

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> Response:
    """Alive: cheap enough to call every second, and true while the process serves requests."""
    return JSONResponse({"status": "ok", "version": __version__})


async def readyz(request: Request) -> Response:
    """Ready: 200 when every dependency answers, else 503; each one's state either way."""
    ctx = app_context(request)
    checks: dict[str, Awaitable[None]] = {"database": _database(ctx)}
    if ctx.settings.redis_url:
        checks["redis"] = _redis(ctx.settings.redis_url)
    results = await asyncio.gather(*(_check(name, probe) for name, probe in checks.items()))
    dependencies = dict(zip(checks, results, strict=True))
    ready = all(state == "ok" for state in dependencies.values())
    body = {"status": "ready" if ready else "unavailable", "version": __version__, "dependencies": dependencies}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _check(name: str, probe: Awaitable[None]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe
    except Exception as exc:
        log.warning("readiness check: %s unreachable: %s", name, type(exc).__name__)
        return "unreachable"
    return "ok"


async def _database(ctx: AppContext) -> None:
    async with ctx.db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(url: str) -> None:
    # A connection of its own: a probe must not wait behind, or disturb, the app's pools.
    client = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


routes = [
    Route("/healthz", healthz, methods=["GET"], name="health:check"),
    Route("/readyz", readyz, methods=["GET"], name="health:ready"),
]
