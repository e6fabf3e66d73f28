"""MCP server pages: add, show (its tools), edit, test connection (refreshes the tools), delete."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agents.tools.mcp import TRANSPORTS
from app.errors import ValidationFailed
from app.mcp_servers import service
from app.mcp_servers.service import AUTH_KINDS, ServerInput
from app.models import McpServer
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render

SECRET_FIELDS = ("token", "password", "headers")


def _context(form: dict[str, Any], errors: dict[str, str], server: McpServer | None) -> dict[str, Any]:
    return {
        "form": {k: v for k, v in form.items() if k not in SECRET_FIELDS}, "errors": errors, "server": server,
        "transports": list(TRANSPORTS.items()), "auth_kinds": list(AUTH_KINDS.items()),
        "tools": service.cached_tools(server) if server else [],
    }  # fmt: skip


def _server_id(request: Request) -> uuid.UUID:
    server_id: uuid.UUID = request.path_params["server_id"]
    return server_id


def _form_of(server: McpServer) -> dict[str, str]:
    return {"name": server.name, "transport": server.transport, "url": server.url, "auth_kind": server.auth_kind}


@login_required
async def new_server(request: Request) -> Response:
    form = {"transport": "http", "auth_kind": "none"}
    return render(request, "mcp_servers/page.html", _context(form, {}, None))


@login_required
async def create_server(request: Request) -> Response:
    ctx, form = app_context(request), await read_form(request)
    try:
        async with ctx.db.transaction() as session:
            server = await service.create_server(session, ctx.secretbox, current_user(request).id,
                                                 ServerInput.from_form(form))  # fmt: skip
    except ValidationFailed as exc:
        return render(request, "mcp_servers/page.html", _context(form, exc.errors, None), status_code=400)
    return redirect(request, str(request.url_for("mcp_servers:show", server_id=server.id)))


@login_required
async def show_server(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        server = await service.get_server(session, current_user(request).id, _server_id(request))
    return render(request, "mcp_servers/page.html", _context(_form_of(server), {}, server))


@login_required
async def update_server(request: Request) -> Response:
    ctx, user, form = app_context(request), current_user(request), await read_form(request)
    try:
        async with ctx.db.transaction() as session:
            server = await service.get_server(session, user.id, _server_id(request))
            await service.update_server(session, ctx.secretbox, server, ServerInput.from_form(form))
    except ValidationFailed as exc:
        async with ctx.db.transaction() as session:  # the rolled-back row cannot be read any more
            server = await service.get_server(session, user.id, _server_id(request))
        return render(request, "mcp_servers/page.html", _context(form, exc.errors, server), status_code=400)
    return redirect(request, str(request.url_for("mcp_servers:show", server_id=server.id)))


@login_required
async def test_server(request: Request) -> Response:
    """Connect now, list the tools and keep them: the agent form offers what this found."""
    ctx, user = app_context(request), current_user(request)
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, _server_id(request))
        config = service.config(ctx.secretbox, server)
    # No transaction is held while the server answers (up to NOVA_MCP_TIMEOUT_SECONDS).
    tools, error = await service.test_connection(
        config, ctx.settings.egress_allowlist, ctx.settings.mcp_timeout_seconds
    )
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, _server_id(request))
        service.remember_tools(server, tools, error)
    context = _context(_form_of(server), {}, server) | {"tested": True}
    return render(request, "mcp_servers/page.html", context, fragment="mcp_servers/_tools.html")


@login_required
async def delete_server(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        server = await service.get_server(session, current_user(request).id, _server_id(request))
        await service.delete_server(session, server)
    return redirect(request, str(request.url_for("tool_settings:list")))


routes = [
    Route("/tools/mcp", create_server, methods=["POST"], name="mcp_servers:create"),
    Route("/tools/mcp/new", new_server, methods=["GET"], name="mcp_servers:new"),
    Route("/tools/mcp/{server_id:uuid}", show_server, methods=["GET"], name="mcp_servers:show"),
    Route("/tools/mcp/{server_id:uuid}", update_server, methods=["POST"], name="mcp_servers:update"),
    Route("/tools/mcp/{server_id:uuid}/test", test_server, methods=["POST"], name="mcp_servers:test"),
    Route("/tools/mcp/{server_id:uuid}/delete", delete_server, methods=["POST"], name="mcp_servers:delete"),
]
