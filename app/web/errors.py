"""Map errors to responses: an HTML page for people, application/problem+json for the API."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import Conflict, NotFound, ValidationFailed
from app.web.paths import is_api_path
from app.web.templates import render

log = logging.getLogger(__name__)


def is_api_request(request: Request) -> bool:
    return is_api_path(request.url.path)


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """An error answer: problem+json for the API (or no request), an HTML page otherwise.

    The OpenAI-compatible routes (/v1) answer in OpenAI's error shape, as its clients expect.
    """
    if request is not None and request.url.path.startswith(OPENAI_PREFIX):
        return openai_error(status, detail)
    if request is not None and not is_api_request(request):
        template = "errors/404.html" if status == 404 else "errors/error.html"
        context = {"status": status, "title": _reason(status), "detail": detail}
        return render(request, template, context, status_code=status)
    body = {"type": "about:blank", "title": _reason(status), "status": status, "detail": detail}
    return JSONResponse(body | (extra or {}), status_code=status, media_type="application/problem+json")


OPENAI_PREFIX = "/v1/"
OPENAI_ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                      409: "conflict_error", 429: "rate_limit_error"}  # fmt: skip


def openai_error(status: int, message: str, code: str | None = None) -> Response:
    kind = OPENAI_ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = "There is nothing here." if exc.status_code == 404 else exc.detail
    response = problem(exc.status_code, detail, request=request)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    return problem(404, "There is nothing here.", request=request)


async def conflict(request: Request, exc: Exception) -> Response:
    return problem(409, str(exc), request=request)


async def validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationFailed)
    return problem(422, str(exc), request=request, extra={"errors": exc.errors})


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Something went wrong on our side.", request=request)


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    NotFound: not_found,
    Conflict: conflict,
    ValidationFailed: validation_failed,
    Exception: server_error,
}
