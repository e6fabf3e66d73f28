"""Jinja environment and the render helper: full page, or the fragment for htmx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from app import __version__
from app.web.csrf import csrf_token
from app.web.htmx import is_htmx
from app.web.markdown import render_markdown

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"

VENDOR = {
    "htmx": "vendor/htmx-2.0.11.min.js",
    "htmx_sse": "vendor/htmx-ext-sse-2.2.4.min.js",
    "swagger_ui": "vendor/swagger-ui-bundle-5.35.0.js",
    "swagger_ui_css": "vendor/swagger-ui-5.35.0.css",
}


def _base_context(request: Request) -> dict[str, Any]:
    # The 500 handler runs outside the middleware, where no user may have been set.
    user = request.scope.get("user")
    user = user if user is not None and user.is_authenticated else None
    return {"current_user": user, "csrf_token": csrf_token(request), "version": __version__}


templates = Jinja2Templates(directory=TEMPLATE_DIR, context_processors=[_base_context])
templates.env.globals["vendor"] = VENDOR
templates.env.filters["markdown"] = lambda text: Markup(render_markdown(text))  # noqa: S704


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render `template`, or just `fragment` when htmx asked for part of the page."""
    name = fragment if fragment and is_htmx(request) else template
    response = templates.TemplateResponse(request, name, context or {}, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response


def render_fragment(request: Request, template: str, context: dict[str, Any]) -> str:
    """A template rendered to a string (for SSE frames), with the usual base context."""
    return templates.get_template(template).render({"request": request, **_base_context(request), **context})
