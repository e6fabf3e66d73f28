"""The MCP server's life inside Nova's: built on the first /mcp request, stopped with Nova.

fastmcp costs about a second of CPU and 50 MB to load, which a Nova that no MCP client
uses never pays. Its session manager must be entered and left by one task, so it runs in a
task of its own until Nova's lifespan (app/main.py) ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.types import ASGIApp

from app import shutdown
from app.context import AppContext

if TYPE_CHECKING:
    from app.mcp_endpoint.server import BuiltServer


class McpServing:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.closing = False
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        self._endpoint: ASGIApp | None = None
        self._task: asyncio.Task[None] | None = None

    async def endpoint(self) -> ASGIApp:
        async with self._lock:
            if self._endpoint is None:
                server = await asyncio.to_thread(importlib.import_module, "app.mcp_endpoint.server")
                built: BuiltServer = server.build(self.ctx, self.stopping)
                started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                # A context of its own: the sessions it serves are no part of this first request.
                self._task = asyncio.create_task(self._run(built, started), context=contextvars.Context())
                await started
                self._endpoint = built.endpoint
            return self._endpoint

    async def _run(self, built: BuiltServer, started: asyncio.Future[None]) -> None:
        try:
            async with built.http.lifespan(built.http):
                started.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            raise

    def stopping(self) -> bool:
        """Whether Nova is shutting down: the calls fastmcp then cancels leave their runs to finish.

        (uvicorn lets the requests in flight end first; a 2025-protocol call runs on its
        session, which outlives its request until the lifespan ends.)"""
        return self.closing or shutdown.requested()

    async def close(self) -> None:
        self.closing = True  # before fastmcp cancels the calls still open
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)  # a failed start was reported then


@asynccontextmanager
async def serving(app: Starlette, ctx: AppContext) -> AsyncIterator[None]:
    mcp = McpServing(ctx)
    app.state.mcp = mcp
    try:
        yield
    finally:
        await mcp.close()


def serving_of(app: Starlette) -> McpServing:
    mcp: McpServing = app.state.mcp
    return mcp
