"""Deleting a user: a confirmation naming what goes (typing their email), then the deletion."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.admin import service
from app.errors import ValidationFailed
from app.runs import control
from app.web.auth import admin_required, current_user
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render


async def _confirm_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    async with app_context(request).db.transaction() as session:
        found = await service.footprint(session, request.path_params["user_id"], current_user(request).id)
    size = human_size(found.counts["file_bytes"])
    context = {"footprint": found, "target": found.user, "size": size, "form": {}, "errors": {}} | extra
    return render(request, "admin/confirm_delete.html", context, status_code=status_code)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


@admin_required
async def confirm_delete(request: Request) -> Response:
    return await _confirm_page(request)


@admin_required
async def delete_user(request: Request) -> Response:
    ctx, acting_id = app_context(request), current_user(request).id
    user_id: uuid.UUID = request.path_params["user_id"]
    form = await read_form(request)
    typed = form.get("confirm_email", "").strip().lower()
    try:
        async with ctx.db.transaction() as session:
            user = await service.check_deletable(session, user_id, acting_id)
            if typed != user.email:
                raise ValidationFailed({"confirm_email": f"Type {user.email} to confirm."})
        # Runs end first, while their rows still exist to publish a final event from.
        await control.stop_all(ctx, user_id)
        async with ctx.db.transaction() as session:
            deleted = await service.delete_user(session, user_id, acting_id)
    except ValidationFailed as exc:
        return await _confirm_page(request, 400, form=form, errors=exc.errors)
    await service.forget_outside_database(ctx, deleted)
    return redirect(request, str(request.url_for("admin:users").include_query_params(deleted=user.email)))


routes = [
    Route("/admin/users/{user_id:uuid}/delete", confirm_delete, methods=["GET"], name="admin:confirm_delete"),
    Route("/admin/users/{user_id:uuid}/delete", delete_user, methods=["POST"], name="admin:delete_user"),
]
