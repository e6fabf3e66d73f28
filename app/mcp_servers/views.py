"""MCP server pages: add, show (its tools), edit, test connection (refreshes the tools), delete."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import ValidationFailed
from app.mcp_servers import service
from app.mcp_servers.page_context import context as _context
from app.mcp_servers.page_context import page_context
from app.mcp_servers.service import ServerInput
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render


def _server_id(request: Request) -> uuid.UUID:
    server_id: uuid.UUID = request.path_params["server_id"]
    return server_id


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
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, current_user(request).id, _server_id(request))
        context = await page_context(session, ctx.secretbox, server)
    # Back from an OAuth sign-in: the tool list it fetched, as "Test connection" shows it.
    connected = request.query_params.get("connected") == "1" and context["oauth"] is not None
    return render(request, "mcp_servers/page.html", context | {"tested": connected})


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
            context = await page_context(session, ctx.secretbox, server, form, exc.errors)
        return render(request, "mcp_servers/page.html", context, status_code=400)
    return redirect(request, str(request.url_for("mcp_servers:show", server_id=server.id)))


@login_required
async def test_server(request: Request) -> Response:
    """Connect now, list the tools and keep them: the agent form offers what this found."""
    ctx, user = app_context(request), current_user(request)
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, _server_id(request))
        config = service.config(ctx.secretbox, server, ctx.db)
    # No transaction is held while the server answers (up to NOVA_MCP_TIMEOUT_SECONDS).
    tools, error = await service.test_connection(
        config, ctx.settings.egress_allowlist, ctx.settings.mcp_timeout_seconds
    )
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, _server_id(request))
        service.remember_tools(server, tools, error)
        context = await page_context(session, ctx.secretbox, server) | {"tested": True}
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
