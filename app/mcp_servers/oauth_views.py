"""Signing an MCP server in with OAuth 2.1: Connect (off to its authorization server), the
callback (a code for tokens, then the tool list), Disconnect.

The `state` sent out is bound to its user and server in the database and good once, for ten
minutes; a callback for anyone else, or late, or twice, stores nothing. No transaction is held
while another server answers. Tokens never reach a page or a log line.
"""

from __future__ import annotations

import logging
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.egress import EgressPolicy
from app.mcp_servers import oauth_service, service
from app.mcp_servers.oauth_discovery import OAuthFailure
from app.mcp_servers.oauth_service import OAuthSettings
from app.mcp_servers.page_context import page_context
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.templates import render

EXPIRED = ("This sign-in expired, was already used, or was started by another account. "
           "Open the server on the Tools page and choose Connect again.")  # fmt: skip
NOT_OAUTH = "This server does not sign in with OAuth: choose “OAuth 2.1” under Authentication and save first."
log = logging.getLogger(__name__)


def _policy(request: Request) -> EgressPolicy:
    return EgressPolicy.from_settings(app_context(request).settings.egress_allowlist, [])


def _callback_url(request: Request) -> str:
    return str(request.url_for("mcp_servers:oauth_callback"))


async def _page_with_error(request: Request, server_id: uuid.UUID, message: str) -> Response:
    async with app_context(request).db.transaction() as session:
        server = await service.get_server(session, current_user(request).id, server_id)
        context = await page_context(session, app_context(request).secretbox, server)
    return render(request, "mcp_servers/page.html", context | {"oauth_error": message}, status_code=400)


@login_required
async def connect(request: Request) -> Response:
    ctx, user = app_context(request), current_user(request)
    server_id: uuid.UUID = request.path_params["server_id"]
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, server_id)
        settings, url, kind = OAuthSettings.of(ctx.secretbox, server), server.url, server.auth_kind
    if kind != "oauth":
        return await _page_with_error(request, server_id, NOT_OAUTH)
    try:
        prepared = await oauth_service.prepare(_policy(request), settings, url, _callback_url(request))
    except OAuthFailure as exc:
        return await _page_with_error(request, server_id, str(exc))
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, server_id)
        target = await oauth_service.begin(session, ctx.secretbox, server, prepared, _callback_url(request))
    # A page that goes on by itself, not a redirect: browsers apply the form's CSP
    # (`form-action 'self'`) to every redirect after a form is sent.
    context = {"server": server, "issuer": prepared.found.issuer, "authorize_url": target}
    response = render(request, "mcp_servers/oauth_continue.html", context)
    response.headers["Refresh"] = f"0; url={target}"
    return response


@login_required
async def callback(request: Request) -> Response:
    ctx, user, query = app_context(request), current_user(request), request.query_params
    async with ctx.db.transaction() as session:  # committed now: used, whatever follows
        pending = await oauth_service.take(session, ctx.secretbox, user.id, query.get("state", ""))
    if pending is None:
        return render(request, "mcp_servers/oauth_failed.html", {"message": EXPIRED}, status_code=400)
    if query.get("error") or not query.get("code"):
        log.info("MCP OAuth: the authorization server answered %s", query.get("error", "no code"))
        reason = query.get("error_description") or query.get("error") or "no authorization code came back"
        message = f"The authorization server did not sign you in ({reason[:200]})."
        return await _page_with_error(request, pending.server_id, message)
    try:
        tokens = await oauth_service.finish(_policy(request), pending, query["code"])
    except OAuthFailure as exc:
        return await _page_with_error(request, pending.server_id, str(exc))
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, pending.server_id)
        await oauth_service.store(session, ctx.secretbox, server, pending, tokens)
        config = service.config(ctx.secretbox, server, ctx.db)
    # Signed in: list the tools now, as "Test connection" would.
    tools, error = await service.test_connection(
        config, ctx.settings.egress_allowlist, ctx.settings.mcp_timeout_seconds
    )
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, user.id, pending.server_id)
        service.remember_tools(server, tools, error)
    target = request.url_for("mcp_servers:show", server_id=pending.server_id).include_query_params(connected="1")
    return RedirectResponse(str(target), status_code=303)


@login_required
async def disconnect(request: Request) -> Response:
    ctx = app_context(request)
    server_id: uuid.UUID = request.path_params["server_id"]
    async with ctx.db.transaction() as session:
        server = await service.get_server(session, current_user(request).id, server_id)
        await oauth_service.disconnect(session, server)
    return RedirectResponse(str(request.url_for("mcp_servers:show", server_id=server_id)), status_code=303)


routes = [
    Route("/tools/mcp/oauth/callback", callback, methods=["GET"], name="mcp_servers:oauth_callback"),
    Route("/tools/mcp/{server_id:uuid}/connect", connect, methods=["POST"], name="mcp_servers:connect"),
    Route("/tools/mcp/{server_id:uuid}/disconnect", disconnect, methods=["POST"], name="mcp_servers:disconnect"),
]
