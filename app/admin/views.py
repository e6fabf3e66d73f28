"""Admin pages: list and create users, suspend and reactivate, change roles, password reset
links, invite codes. Deleting a user is in `deletion.py`."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import password_reset
from app.accounts import repository as accounts_repo
from app.accounts import service as accounts
from app.errors import ValidationFailed
from app.models import Role
from app.runs import control
from app.web.auth import admin_required, current_user
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.params import parse_number
from app.web.templates import render


async def _users_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    async with app_context(request).db.transaction() as session:
        users = await accounts_repo.list_users(session)
    context = {"users": users, "form": {}, "errors": {}} | extra
    return render(request, "admin/users.html", context, status_code=status_code)


@admin_required
async def users_page(request: Request) -> Response:
    return await _users_page(request)


@admin_required
async def create_user(request: Request) -> Response:
    form = await read_form(request)
    role = Role.ADMIN if form.get("role") == Role.ADMIN.value else Role.USER
    try:
        async with app_context(request).db.transaction() as session:
            await accounts.create_user(session, form.get("email", ""), form.get("password", ""), role)
    except ValidationFailed as exc:
        return await _users_page(request, 400, form={**form, "password": ""}, errors=exc.errors)
    return redirect(request, str(request.url_for("admin:users")))


async def _set_active(request: Request, active: bool) -> Response:
    user_id: uuid.UUID = request.path_params["user_id"]
    ctx = app_context(request)
    try:
        async with ctx.db.transaction() as session:
            await accounts.set_active(session, user_id, active)
    except ValidationFailed as exc:
        return await _users_page(request, 400, errors=exc.errors)
    if not active:
        await control.stop_all(ctx, user_id)  # their open streams end at their next re-check
    return redirect(request, str(request.url_for("admin:users")))


@admin_required
async def suspend_user(request: Request) -> Response:
    return await _set_active(request, active=False)


@admin_required
async def reactivate_user(request: Request) -> Response:
    return await _set_active(request, active=True)


@admin_required
async def change_role(request: Request) -> Response:
    form = await read_form(request)
    role = Role.ADMIN if form.get("role") == Role.ADMIN.value else Role.USER
    try:
        async with app_context(request).db.transaction() as session:
            await accounts.set_role(session, request.path_params["user_id"], role)
    except ValidationFailed as exc:
        # Shown above the table: the create form's own role field must not carry it.
        return await _users_page(request, 400, errors={"user": " ".join(exc.errors.values())})
    return redirect(request, str(request.url_for("admin:users")))


@admin_required
async def reset_password(request: Request) -> Response:
    """Make a one-time link and show it once, for the admin to hand over."""
    ctx = app_context(request)
    try:
        async with ctx.db.transaction() as session:
            link = await password_reset.create(
                session, request.path_params["user_id"], current_user(request).id, ctx.settings.login_mode
            )
    except ValidationFailed as exc:
        return await _users_page(request, 400, errors=exc.errors)
    url = request.url_for("accounts:reset_password", token=link.token)
    response = await _users_page(request, reset={"email": link.user.email, "url": url, "expires_at": link.expires_at})
    response.headers["Cache-Control"] = "no-store"
    return response


async def _invites_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    async with app_context(request).db.transaction() as session:
        invites = await accounts_repo.list_invites(session)
    context = {"invites": invites, "form": {"days": "7"}, "errors": {}} | extra
    return render(request, "admin/invites.html", context, status_code=status_code)


@admin_required
async def invites_page(request: Request) -> Response:
    return await _invites_page(request)


@admin_required
async def create_invite(request: Request) -> Response:
    form = await read_form(request)
    days_text = form.get("days", "7").strip()
    try:
        days = parse_number(days_text or "0", "days", maximum=365)
        async with app_context(request).db.transaction() as session:
            invite = await accounts.create_invite(session, current_user(request).id, days)
    except ValidationFailed as exc:
        return await _invites_page(request, 400, form=form, errors=exc.errors)
    return await _invites_page(request, created=invite)


routes = [
    Route("/admin/users", users_page, methods=["GET"], name="admin:users"),
    Route("/admin/users", create_user, methods=["POST"], name="admin:create_user"),
    Route(
        "/admin/users/{user_id:uuid}/suspend",
        suspend_user,
        methods=["POST"],
        name="admin:suspend_user",
    ),
    Route(
        "/admin/users/{user_id:uuid}/reactivate",
        reactivate_user,
        methods=["POST"],
        name="admin:reactivate_user",
    ),
    Route("/admin/users/{user_id:uuid}/role", change_role, methods=["POST"], name="admin:change_role"),
    Route(
        "/admin/users/{user_id:uuid}/password-reset",
        reset_password,
        methods=["POST"],
        name="admin:reset_password",
    ),
    Route("/admin/invites", invites_page, methods=["GET"], name="admin:invites"),
    Route("/admin/invites", create_invite, methods=["POST"], name="admin:create_invite"),
]
