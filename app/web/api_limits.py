"""API request limits at the edge: each request an API token signs in is counted.

`ApiLimitMiddleware` runs after authentication, so only `/api/`, `/v1/` and `/mcp` requests that a
valid token signed count (browser pages are not API traffic; a request with a bad token is
a 401 anyway). An event stream is one request, counted when it connects. Past either
window, 429 with `Retry-After`, `RateLimit` and `RateLimit-Policy` (problem+json, or
OpenAI's error shape on `/v1`); below them every answer carries the RateLimit fields, so
clients can pace themselves, unless it has its own (a refused run start names the
run-start window). `ApiLimitGate` runs before authentication and turns away a token this
process refused while its window is still full (app/security/api_limits.py), without a
query, and only after a pause: a client that ignores Retry-After and asks again at once
can then cost the server only a few cheap answers a second per connection, so one user's
flood does not take the CPU that other users' requests need.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import RateLimited
from app.security.api_limits import ApiLimiter, refusal_message
from app.security.sliding_window import Decision
from app.web.auth import CurrentUser
from app.web.deps import app_context
from app.web.errors import rate_limited
from app.web.paths import is_api_path

# How long a request the gate refuses waits for its answer (a request refused by counting,
# the first past the limit, is answered at once).
REPEAT_REFUSAL_DELAY_SECONDS = 0.25


class ApiLimitGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _bearer_token(scope) if scope["type"] == "http" and is_api_path(scope["path"]) else None
        decision = _limiter(scope).refused_already(token) if token else None
        if decision is None:
            await self.app(scope, receive, send)
            return
        await asyncio.sleep(REPEAT_REFUSAL_DELAY_SECONDS)
        await _refuse(decision, scope, receive, send)


class ApiLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        is_token = scope["type"] == "http" and isinstance(user, CurrentUser) and user.token_scope is not None
        token = _bearer_token(scope) if is_token else None
        if not isinstance(user, CurrentUser) or not token:
            await self.app(scope, receive, send)
            return
        decision = await _limiter(scope).hit(user.id, token)
        if not decision.allowed:
            await _refuse(decision, scope, receive, send)
            return
        fields = decision.headers()

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "ratelimit" not in headers:
                    headers.update(fields)
            await send(message)

        await self.app(scope, receive, send_with_fields)


def _bearer_token(scope: Scope) -> str | None:
    """The API token as the authentication backend reads it."""
    scheme, _, secret = Headers(scope=scope).get("authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def _limiter(scope: Scope) -> ApiLimiter:
    return app_context(HTTPConnection(scope)).api_limiter


async def _refuse(decision: Decision, scope: Scope, receive: Receive, send: Send) -> None:
    response = await rate_limited(Request(scope), RateLimited(refusal_message(decision), decision.headers()))
    await response(scope, receive, send)
