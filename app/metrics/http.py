"""Every HTTP answer counted by route name, method and status, and timed by route name."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import catalog

# Paths no route matched (404s, scanners) or answered before routing: one label, never the path.
UNMATCHED = "unmatched"
# Where RouteNameMiddleware leaves the route's name for HttpMetricsMiddleware: middlewares
# between them may copy the scope, but a copy still holds this same dict.
NOTE = "nova.route"


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope[NOTE] = note = {"route": UNMATCHED}
        status = 500  # what the client gets if the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = note["route"]
            catalog.http_requests.labels(route, scope["method"], str(status)).inc()
            catalog.http_latency.labels(route).observe(time.perf_counter() - started)


class RouteNameMiddleware:
    """Innermost: the router leaves the route it chose in the scope it was given (a Mount's
    name for /static), which is this one's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if (note := scope.get(NOTE)) is not None:
                note["route"] = getattr(scope.get("route"), "name", None) or UNMATCHED
