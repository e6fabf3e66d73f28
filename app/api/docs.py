"""The API's description: the OpenAPI document, and a page that renders it (offline)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import __version__
from app.web.openapi import build_document
from app.web.templates import render

DESCRIPTION = """Nova's JSON API. Authenticate with a personal API token from the Tokens page:
`Authorization: Bearer <token>`. Scopes: `read` can look, `write` can also post and change,
`admin` (administrators only) can also manage users and system providers.

Lists are paginated with cursors: pass `next_cursor` back as `cursor` (or `before` for a
thread's messages). Errors are `application/problem+json` (RFC 9457) with a `request_id`;
a refused field is named in `errors`. POSTs that create something accept an
`Idempotency-Key` header: a retry with the same key and body returns the first answer and
never creates twice. `/v1` is OpenAI-compatible and answers errors in OpenAI's shape."""


def document(request: Request) -> dict[str, Any]:
    """Built once per app from its routes: the contracts do not change while it runs."""
    state = request.app.state
    if getattr(state, "openapi_document", None) is None:
        state.openapi_document = build_document(
            request.app.routes, title="Nova API", version=__version__, description=DESCRIPTION
        )
    found: dict[str, Any] = state.openapi_document
    return found


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document(request))


async def docs_page(request: Request) -> Response:
    return render(request, "api/docs.html", {})


routes = [
    Route("/api/v1/openapi.json", openapi_json, methods=["GET"], name="api:openapi"),
    Route("/docs/api", docs_page, methods=["GET"], name="api:docs"),
]
