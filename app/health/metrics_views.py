"""GET /metrics: Prometheus's scrape, for an admin-scoped API token (Bearer)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.health import repository
from app.web.auth import admin_required
from app.web.deps import app_context


@admin_required
async def scrape(request: Request) -> Response:
    from app.metrics import exposition  # prometheus-client's exposition code: only when scraped

    async with app_context(request).db.transaction() as session:
        in_progress = await repository.runs_in_progress(session)
    return Response(exposition.scrape(in_progress), media_type=exposition.CONTENT_TYPE_LATEST)


routes = [Route("/metrics", scrape, methods=["GET"], name="health:metrics")]
