"""The Settings page: appearance, defaults, password and sessions, each section its own form."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import service as accounts
from app.accounts.login_session import set_session_cookie, start_login_session
from app.agent_configs import service as agent_configs
from app.errors import ValidationFailed
from app.preferences import onboarding, service
from app.web.auth import allowed_before_password_change, current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render

SAVED = {
    "appearance": "Theme saved.",
    "defaults": "Defaults saved.",
    "password": "Password changed. Your other sessions were signed out.",
    "sessions": "Signed out.",
}


async def _page(request: Request, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                status_code: int = 200) -> Response:  # fmt: skip
    """The whole page; after a refused form, that form's values and errors (the others as stored)."""
    ctx, me = app_context(request), current_user(request)
    async with ctx.db.transaction() as session:
        user = await service.get_user(session, me.id)
        agents = await agent_configs.agents_for_chat(session, me.id, ctx.settings)
        sessions = await service.sessions(session, me.id, me.session_id)
    default = next((agent for agent in agents if agent.is_default), agents[0] if agents else None)
    stored = {"theme": user.theme.value, "timezone": user.timezone, "agent_id": str(default.id) if default else ""}
    context: dict[str, Any] = {
        "form": stored | (form or {}),
        "errors": errors or {},
        "saved": SAVED.get(request.query_params.get("saved", "")),
        "saved_section": request.query_params.get("saved", ""),
        "theme_options": [(theme.value, label) for theme, label in service.THEME_CHOICES],
        "agent_options": [(str(agent.id), agent.name) for agent in agents],
        "timezones": service.timezone_names(),
        "zone": ZoneInfo(user.timezone),
        "sessions": sessions,
        # An account made by single sign-on has no password: the form would only ever refuse.
        "has_password": bool(user.password_hash),
        "must_change_password": user.must_change_password,
    }
    return render(request, "preferences/page.html", context, status_code=status_code)


def _saved(request: Request, section: str) -> Response:
    target = request.url_for("settings:page").include_query_params(saved=section)
    return redirect(request, f"{target}#{section}")


@login_required
@allowed_before_password_change
async def settings_page(request: Request) -> Response:
    return await _page(request)


@login_required
async def save_appearance(request: Request) -> Response:
    form = await read_form(request)
    try:
        async with app_context(request).db.transaction() as session:
            await service.set_theme(session, current_user(request).id, form.get("theme", ""))
    except ValidationFailed as exc:
        return await _page(request, form=form, errors=exc.errors, status_code=400)
    return _saved(request, "appearance")


@login_required
async def save_defaults(request: Request) -> Response:
    ctx, user_id = app_context(request), current_user(request).id
    form = await read_form(request)
    data = service.Defaults(agent_id=form.get("agent_id", ""), timezone=form.get("timezone", ""))
    try:
        async with ctx.db.transaction() as session:
            agents = await agent_configs.agents_for_chat(session, user_id, ctx.settings)
            await service.set_defaults(session, user_id, agents, data)
    except ValidationFailed as exc:
        return await _page(request, form=form, errors=exc.errors, status_code=400)
    return _saved(request, "defaults")


@login_required
@allowed_before_password_change
async def change_password(request: Request) -> Response:
    """Every session ends (a stolen cookie with them); this browser gets a new one."""
    form = await read_form(request)
    forced = current_user(request).must_change_password
    try:
        async with app_context(request).db.transaction() as session:
            user = await accounts.change_password(
                session,
                current_user(request).id,
                form.get("current_password", ""),
                form.get("new_password", ""),
                form.get("confirm_password", ""),
            )
            token = await start_login_session(request, session, user)
    except ValidationFailed as exc:
        return await _page(request, errors=exc.errors, status_code=400)
    # A generated password replaced: on to the home page and its first-run checklist.
    response = redirect(request, str(request.url_for("home"))) if forced else _saved(request, "password")
    set_session_cookie(request, response, token)
    return response


@login_required
async def end_session(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        await service.end_session(session, current_user(request).id, request.path_params["session_id"])
    return _saved(request, "sessions")


@login_required
async def end_other_sessions(request: Request) -> Response:
    me = current_user(request)
    async with app_context(request).db.transaction() as session:
        await service.end_other_sessions(session, me.id, me.session_id or "")
    return _saved(request, "sessions")


@login_required
async def dismiss_onboarding(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        await onboarding.dismiss(session, current_user(request).id)
    return redirect(request, str(request.url_for("threads:list")))


routes = [
    Route("/settings", settings_page, methods=["GET"], name="settings:page"),
    Route("/settings/appearance", save_appearance, methods=["POST"], name="settings:appearance"),
    Route("/settings/defaults", save_defaults, methods=["POST"], name="settings:defaults"),
    Route("/settings/password", change_password, methods=["POST"], name="settings:password"),
    Route("/settings/sessions/others/end", end_other_sessions, methods=["POST"], name="settings:end_other_sessions"),
    Route("/settings/sessions/{session_id:str}/end", end_session, methods=["POST"], name="settings:end_session"),
    Route("/settings/onboarding/dismiss", dismiss_onboarding, methods=["POST"], name="settings:dismiss_onboarding"),
]
