"""Typed access to what the lifespan opened."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from app.context import AppContext


def app_context(conn: HTTPConnection) -> AppContext:
    ctx: AppContext = conn.app.state.ctx
    return ctx
