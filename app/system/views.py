"""GET /admin/system: what is wrong with this Nova, on one page (admins only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.system import service
from app.web.auth import admin_required
from app.web.deps import app_context
from app.web.templates import render


@admin_required
async def system_page(request: Request) -> Response:
    report = await service.report(app_context(request))
    response = render(request, "system/page.html", {"report": report})
    response.headers["Cache-Control"] = "no-store"  # a status page is only true now
    return response


routes = [Route("/admin/system", system_page, methods=["GET"], name="admin:system")]
