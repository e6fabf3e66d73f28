"""create_app(): routes, middleware, exception handlers, lifespan."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import Response

from app import logs
from app.accounts.authentication import NovaAuthBackend
from app.agent_configs import service as agent_configs
from app.context import AppContext, open_context
from app.files import tasks as file_tasks
from app.mcp_endpoint import serving as mcp_endpoint
from app.metrics.http import HttpMetricsMiddleware, RouteNameMiddleware
from app.routes import routes
from app.runs import lifecycle
from app.settings import Settings, load_settings
from app.web.api_limits import ApiLimitGate, ApiLimitMiddleware
from app.web.csrf import CSRFMiddleware
from app.web.errors import EXCEPTION_HANDLERS, problem
from app.web.middleware import BodySizeLimitMiddleware, PublicURLMiddleware, SecurityHeadersMiddleware
from app.web.request_id import RequestIdMiddleware
from app.web.sse import SharedChecks


async def _run_in_process(ctx: AppContext, run_id: uuid.UUID) -> None:
    """The embedded mode runs jobs inside `nova serve`, with the very function arq runs.
    Imported with the first run: the agent runtime (langchain, langgraph, the provider
    SDKs) costs seconds and ~100 MB, which a web process that runs nothing never pays."""
    from app.worker import embedded_executor

    await embedded_executor(ctx, run_id)


# The routes that take a file (files:upload, api:upload_file): their bodies may be larger.
UPLOAD_PATHS = ("/files", "/api/v1/files")
IMPORT_PATHS = ("/threads/import", "/api/v1/threads/import")


def _auth_error(conn: HTTPConnection, exc: Exception) -> Response:
    return problem(401, str(exc))


async def _expire_paused_forever(ctx: AppContext) -> None:
    """The embedded mode's stand-in for the worker's cron jobs (paused runs each minute, files each hour)."""
    minutes = 0
    while True:
        try:
            await lifecycle.expire_paused(ctx)
        except Exception:
            logging.getLogger(__name__).exception("expiring paused runs failed")
        if minutes % 60 == 0:
            try:
                await file_tasks.expire_files(ctx)
            except Exception:
                logging.getLogger(__name__).exception("expiring files failed")
        minutes += 1
        await asyncio.sleep(60)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx = open_context(settings, run_executor=_run_in_process)
        app.state.ctx = ctx
        sweeper = None
        if settings.embedded:
            # This process is the only runner: whatever it was running when it died is lost.
            await lifecycle.recover_interrupted(ctx)
            sweeper = asyncio.create_task(_expire_paused_forever(ctx))
        try:
            async with mcp_endpoint.serving(app, ctx):  # /mcp's sessions live as long as Nova
                yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
            await ctx.close()

    authentication = NovaAuthBackend()
    logs.install_fields()
    middleware = [
        # Outermost: every response carries the id, and every log line of the request.
        Middleware(RequestIdMiddleware),
        Middleware(HttpMetricsMiddleware),
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts),
        Middleware(SecurityHeadersMiddleware),
        Middleware(
            BodySizeLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            upload_paths=UPLOAD_PATHS,
            upload_max_bytes=settings.upload_max_bytes,
            import_paths=IMPORT_PATHS,
            import_max_bytes=settings.import_max_bytes,
        ),
        Middleware(PublicURLMiddleware, public_url=settings.public_url),
        # Before authentication: a token refused while its window is full costs no query.
        Middleware(ApiLimitGate),
        Middleware(AuthenticationMiddleware, backend=authentication, on_error=_auth_error),
        # After authentication: each request a token signed counts against its token and user.
        Middleware(ApiLimitMiddleware),
        # After authentication: the token a form must carry depends on the session.
        Middleware(CSRFMiddleware, public_url=settings.public_url, secure=settings.secure_cookies),
        # Innermost: notes which route answered, for the metrics counted outermost.
        Middleware(RouteNameMiddleware),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.reauthenticate = authentication.still_valid  # open streams re-check (web/sse.py)
    app.state.stream_checks = SharedChecks()  # ...once per credential, however many streams
    # A user's first provider brings their default agent at once (providers/views.py).
    app.state.provider_added = agent_configs.agents_for_chat
    return app
