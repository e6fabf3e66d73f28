"""Map errors to responses: an HTML page for people, a toast for htmx, problem+json for the API."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from app import request_ids
from app.errors import (
    QUEUE_DOWN_MESSAGE,
    Conflict,
    NotFound,
    QueueUnavailable,
    RateLimited,
    TooLarge,
    ValidationFailed,
)
from app.web.htmx import is_htmx
from app.web.paths import is_api_path
from app.web.templates import render

log = logging.getLogger(__name__)

NOTHING_HERE = "There is nothing here."
# An htmx request acts on something the page shows, so a 404 means it went away meanwhile.
GONE = "This is no longer there; it may have been deleted elsewhere. Reload the page to see what is."


def is_api_request(request: Request) -> bool:
    return is_api_path(request.url.path)


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    extra: dict[str, Any] | None = None,
    code: str | None = None,
    toast_text: str | None = None,
) -> Response:
    """An error answer: problem+json for the API (or no request), an HTML page otherwise.

    The OpenAI-compatible routes (/v1) answer in OpenAI's error shape (with `code`), as its
    clients expect. An htmx request gets a toast saying `toast_text`, or else `detail`.
    """
    if request is not None and request.url.path.startswith(OPENAI_PREFIX):
        return openai_error(status, detail, code)
    if request is not None and not is_api_request(request):
        if is_htmx(request):
            return toast(request, toast_text or detail)
        template = "errors/404.html" if status == 404 else "errors/error.html"
        context = {"status": status, "title": _reason(status), "detail": detail}
        return render(request, template, context, status_code=status)
    body = {"type": "about:blank", "title": _reason(status), "status": status, "detail": detail,
            "request_id": request_ids.current.get()}  # fmt: skip
    return JSONResponse(body | (extra or {}), status_code=status, media_type="application/problem+json")


OPENAI_PREFIX = "/v1/"
OPENAI_ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                      409: "conflict_error", 429: "rate_limit_error"}  # fmt: skip


def toast(request: Request, message: str) -> Response:
    """Tell an htmx request's user what went wrong, leaving the page as it is.

    htmx swaps nothing from a 404 or 5xx (responseHandling in base.html) and would swap a
    409's or 422's whole error page into the fragment, so the answer is a 200 whose body
    only appends a toast to #toasts, out of band.
    """
    response = render(request, "_toast.html", {"message": message})
    response.headers["HX-Reswap"] = "none"
    return response


def openai_error(status: int, message: str, code: str | None = None, param: str | None = None) -> Response:
    kind = OPENAI_ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        response = problem(404, NOTHING_HERE, request=request, toast_text=GONE)
    else:
        response = problem(exc.status_code, exc.detail, request=request)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method the path answers: Starlette's 405 names only the first route that
    matched it, and each method of a path is a route of its own here."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


async def not_found(request: Request, exc: Exception) -> Response:
    return problem(404, NOTHING_HERE, request=request, toast_text=GONE)


async def conflict(request: Request, exc: Exception) -> Response:
    return problem(409, str(exc), request=request)


async def too_large(request: Request, exc: Exception) -> Response:
    return problem(413, str(exc), request=request)


async def validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationFailed)
    toast_text = " ".join(exc.errors.values())  # a toast has no fields to name
    return problem(422, str(exc), request=request, extra={"errors": exc.errors}, toast_text=toast_text)


async def rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    response = problem(429, str(exc), request=request, code="rate_limit_exceeded")
    response.headers.update(exc.headers)
    return response


async def queue_unavailable(request: Request, exc: Exception) -> Response:
    # The exception's text is Redis's own: for the log, not for people.
    log.warning("job queue unavailable on %s %s: %s", request.method, request.url.path, exc)
    return problem(503, QUEUE_DOWN_MESSAGE, request=request, code="queue_unavailable")


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Something went wrong on our side.", request=request)


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    NotFound: not_found,
    Conflict: conflict,
    ValidationFailed: validation_failed,
    TooLarge: too_large,
    QueueUnavailable: queue_unavailable,
    RateLimited: rate_limited,
    Exception: server_error,
}
