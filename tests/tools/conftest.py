"""Helpers for tool tests: an agent with chosen tools, and small local web servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.models import Agent
from app.tool_settings import repository as tool_rows
from tests.fixtures.live import LiveNova
from tests.fixtures.server import free_port


async def give_tools(live: LiveNova, tools: dict[str, bool]) -> Agent:
    """Set the tools of the seeded user's agent: name → ask first."""
    async with live.db.transaction() as session:
        agent = await session.scalar(select(Agent).where(Agent.owner_id == live.user_id))
        assert agent is not None
        await tool_rows.replace_agent_tools(session, agent.id, tools)
        return agent


@dataclass
class LocalSite:
    """A tiny web server on a loopback address that records every request it gets."""

    host: str
    port: int
    pages: dict[str, Callable[[Request], Response]]
    hits: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def serve_site(
    pages: dict[str, Callable[[Request], Response]], host: str = "127.0.0.1"
) -> tuple[LocalSite, uvicorn.Server]:
    """Start a LocalSite on a thread; set the server's `should_exit` to stop it."""
    site = LocalSite(host, free_port(), pages)

    async def handle(request: Request) -> Response:
        site.hits.append(request.url.path)
        page = site.pages.get(request.url.path)
        return page(request) if page else Response("not here", status_code=404)

    app = Starlette(routes=[Route("/{path:path}", handle)])
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=site.port, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    return site, server


@pytest.fixture
def local_site() -> Iterator[Callable[..., LocalSite]]:
    servers: list[uvicorn.Server] = []

    def start(pages: dict[str, Callable[[Request], Response]], host: str = "127.0.0.1") -> LocalSite:
        site, server = serve_site(pages, host)
        servers.append(server)
        return site

    yield start
    for server in servers:
        server.should_exit = True


def html_page(body: str) -> Callable[[Request], Response]:
    page = f"<html><head><title>Test page</title></head><body><article><p>{body}</p></article></body></html>"
    return lambda _request: Response(page, media_type="text/html")


def json_page(value: Any) -> Callable[[Request], Response]:
    return lambda _request: JSONResponse(value)
