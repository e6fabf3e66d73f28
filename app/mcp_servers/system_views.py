"""Admin pages for system stdio MCP servers: list, add, show (its tools), edit, test, delete.

Every user's agents may use these servers' tools; only admins reach these routes (`admin:`).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import ValidationFailed
from app.mcp_servers import service, stdio
from app.mcp_servers.stdio import StdioInput
from app.models import SystemMcpServer
from app.web.auth import admin_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render

PAGE = "mcp_servers/system.html"


def _context(form: dict[str, Any], errors: dict[str, str], server: SystemMcpServer | None) -> dict[str, Any]:
    # The environment's values are never rendered back, not even after a refused form.
    return {"form": {k: v for k, v in form.items() if k != "environment"}, "errors": errors, "server": server,
            "tools": service.cached_tools(server) if server else []}  # fmt: skip


def _server_id(request: Request) -> uuid.UUID:
    server_id: uuid.UUID = request.path_params["system_server_id"]
    return server_id


def _form_of(server: SystemMcpServer) -> dict[str, str]:
    return {"name": server.name, "command": server.command, "arguments": "\n".join(server.args), "cwd": server.cwd}


@admin_required
async def list_servers(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        servers = await stdio.list_servers(session)
    context = {"servers": servers, "tools_of": service.cached_tools}
    return render(request, "mcp_servers/system_list.html", context)


@admin_required
async def new_server(request: Request) -> Response:
    return render(request, PAGE, _context({}, {}, None))


@admin_required
async def create_server(request: Request) -> Response:
    ctx, form = app_context(request), await read_form(request)
    try:
        async with ctx.db.transaction() as session:
            data = StdioInput.from_form(form)
            server = await stdio.create_server(session, ctx.secretbox, ctx.settings.data_dir, data)
    except ValidationFailed as exc:
        return render(request, PAGE, _context(form, exc.errors, None), status_code=400)
    return redirect(request, str(request.url_for("admin:mcp_server", system_server_id=server.id)))


@admin_required
async def show_server(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        server = await stdio.get_server(session, _server_id(request))
    return render(request, PAGE, _context(_form_of(server), {}, server))


@admin_required
async def update_server(request: Request) -> Response:
    ctx, form = app_context(request), await read_form(request)
    try:
        async with ctx.db.transaction() as session:
            server = await stdio.get_server(session, _server_id(request))
            await stdio.update_server(session, ctx.secretbox, ctx.settings.data_dir, server, StdioInput.from_form(form))
    except ValidationFailed as exc:
        async with ctx.db.transaction() as session:  # the rolled-back row cannot be read any more
            server = await stdio.get_server(session, _server_id(request))
        return render(request, PAGE, _context(form, exc.errors, server), status_code=400)
    return redirect(request, str(request.url_for("admin:mcp_server", system_server_id=server.id)))


@admin_required
async def test_server(request: Request) -> Response:
    """Start the program now, list its tools and keep them: the agent form offers what this found."""
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        config = service.config(ctx.secretbox, await stdio.get_server(session, _server_id(request)))
    # No transaction is held while the program starts and answers (up to NOVA_MCP_TIMEOUT_SECONDS).
    tools, error = await service.test_connection(config, [], ctx.settings.mcp_timeout_seconds)
    async with ctx.db.transaction() as session:
        server = await stdio.get_server(session, _server_id(request))
        service.remember_tools(server, tools, error)
    context = _context(_form_of(server), {}, server) | {"tested": True}
    return render(request, PAGE, context, fragment="mcp_servers/_tools.html")


@admin_required
async def delete_server(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        server = await stdio.get_server(session, _server_id(request))
        own_directory = Path(server.cwd) == stdio.default_directory(ctx.settings.data_dir, server.slug)
        cwd = server.cwd
        await stdio.delete_server(session, server)
    if own_directory:  # after the commit; an admin's own directory is left as it is
        shutil.rmtree(cwd, ignore_errors=True)
    return redirect(request, str(request.url_for("admin:mcp_servers")))


PATH = "/admin/mcp-servers"
ITEM = PATH + "/{system_server_id:uuid}"
routes = [
    Route(PATH, list_servers, methods=["GET"], name="admin:mcp_servers"),
    Route(PATH, create_server, methods=["POST"], name="admin:create_mcp_server"),
    Route(PATH + "/new", new_server, methods=["GET"], name="admin:new_mcp_server"),
    Route(ITEM, show_server, methods=["GET"], name="admin:mcp_server"),
    Route(ITEM, update_server, methods=["POST"], name="admin:update_mcp_server"),
    Route(ITEM + "/test", test_server, methods=["POST"], name="admin:test_mcp_server"),
    Route(ITEM + "/delete", delete_server, methods=["POST"], name="admin:delete_mcp_server"),
]
