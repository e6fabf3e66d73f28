"""CSRF protection for every state-changing browser request (double-submit cookie).

A random token lives in an HttpOnly, SameSite=Lax cookie; every unsafe request must echo
it back, in the `csrf_token` form field or the `X-CSRF-Token` header htmx sends. The API
(/api, /v1) is exempt: it authenticates with Bearer tokens only, never with cookies.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.paths import is_api_path

CSRF_COOKIE = "nova_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def csrf_token(conn: HTTPConnection) -> str:
    token: str = conn.scope.get("state", {}).get("csrf_token", "")
    return token


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, *, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie_token = _cookie_value(scope)
        token = cookie_token or secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token

        if scope["method"] not in SAFE_METHODS and not is_api_path(scope["path"]):
            body = await _read_body(receive)
            if not cookie_token or not await _token_matches(scope, body, cookie_token):
                response = PlainTextResponse(
                    "This form has expired or was sent from another site. Reload the page and try again.",
                    status_code=403,
                )
                await response(scope, receive, send)
                return
            receive = _replay(body)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and not cookie_token:
                headers = MutableHeaders(scope=message)
                flags = "; Secure" if self.secure else ""
                headers.append("set-cookie", f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{flags}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie_value(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # noqa: S112 - a malformed cookie header just means no token
                continue
            if CSRF_COOKIE in cookie:
                return cookie[CSRF_COOKIE].value or None
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _token_matches(scope: Scope, body: bytes, expected: str) -> bool:
    for name, value in scope["headers"]:
        if name == CSRF_HEADER.encode():
            return secrets.compare_digest(value.decode("latin-1"), expected)
    request = Request(scope, _replay(body))
    try:
        form = await request.form()
    except Exception:
        return False
    try:
        sent = form.get(CSRF_FIELD)
        return isinstance(sent, str) and secrets.compare_digest(sent, expected)
    finally:
        await form.close()
