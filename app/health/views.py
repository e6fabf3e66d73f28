"""GET /healthz: database reachable, version; 200 or 503, no auth."""

from __future__ import annotations

import logging

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import __version__
from app.web.deps import app_context

log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    ctx = app_context(request)
    try:
        async with ctx.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        database = "unreachable"
    healthy = database == "ok"
    body = {
        "status": "ok" if healthy else "unavailable",
        "version": __version__,
        "database": database,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


routes = [Route("/healthz", healthz, methods=["GET"], name="health:check")]
