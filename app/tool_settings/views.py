"""The Tools page: your tool settings and timezone, what each tool needs; admin tools."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import ValidationFailed
from app.mcp_servers import service as mcp_service
from app.models import User
from app.tool_settings import repository, service
from app.tool_settings.sandboxes import available_sandbox
from app.web.auth import admin_required, current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render


async def _page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    ctx, user = app_context(request), current_user(request)
    async with ctx.db.transaction() as session:
        stored = await service.load_settings(session, ctx.secretbox, user.id)
        env = service.environment(ctx.settings, stored, available_sandbox(ctx.settings))
        statuses = service.statuses(await service.catalog(session), env)
        custom = await repository.custom_tools(session) if user.is_admin else []
        mcp_servers = await mcp_service.list_servers(session, user.id)
    context = {
        "statuses": statuses, "stored": service.masked(stored), "timezone": user.timezone,
        "timezones": service.timezone_names(),
        "system_search": bool(ctx.settings.searxng_url), "custom_tools": custom,
        "form": {}, "errors": {}, "mcp_servers": mcp_servers, "mcp_tools_of": mcp_service.cached_tools,
    } | extra  # fmt: skip
    return render(request, "tool_settings/page.html", context, status_code=status_code)


@login_required
async def tools_page(request: Request) -> Response:
    return await _page(request)


@login_required
async def save_group(request: Request) -> Response:
    ctx, form = app_context(request), await read_form(request)
    group: str = request.path_params["group"]
    try:
        async with ctx.db.transaction() as session:
            await service.save_group(session, ctx.secretbox, current_user(request).id, group, form)
    except ValidationFailed as exc:
        kept = {k: v for k, v in form.items() if k != "password"}
        return await _page(request, 400, errors=exc.errors, form={group: kept})
    return redirect(request, str(request.url_for("tool_settings:list")))


@login_required
async def save_timezone(request: Request) -> Response:
    form = await read_form(request)
    try:
        async with app_context(request).db.transaction() as session:
            user = await session.get(User, current_user(request).id)
            assert user is not None
            service.set_timezone(user, form.get("timezone", "").strip())
    except ValidationFailed as exc:
        return await _page(request, 400, errors=exc.errors)
    return redirect(request, str(request.url_for("tool_settings:list")))


@admin_required
async def register_tool(request: Request) -> Response:
    form = await read_form(request)
    try:
        async with app_context(request).db.transaction() as session:
            await service.register_custom(session, current_user(request).id, form.get("dotted_path", ""))
    except ValidationFailed as exc:
        return await _page(request, 400, errors=exc.errors, form={"custom": form})
    return redirect(request, str(request.url_for("tool_settings:list")))


@admin_required
async def remove_tool(request: Request) -> Response:
    tool_id: uuid.UUID = request.path_params["tool_id"]
    async with app_context(request).db.transaction() as session:
        await service.remove_custom(session, tool_id)
    return redirect(request, str(request.url_for("tool_settings:list")))


routes = [
    Route("/tools", tools_page, methods=["GET"], name="tool_settings:list"),
    Route("/tools/timezone", save_timezone, methods=["POST"], name="tool_settings:timezone"),
    Route("/tools/settings/{group:str}", save_group, methods=["POST"], name="tool_settings:settings"),
    Route("/tools/custom", register_tool, methods=["POST"], name="admin:register_tool"),
    Route(
        "/tools/custom/{tool_id:uuid}/delete",
        remove_tool,
        methods=["POST"],
        name="admin:remove_tool",
    ),
]
