"""API token page: create (shown once), list, revoke."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import ValidationFailed
from app.tokens import service
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render

SCOPE_LABELS = {"read": "Read only", "write": "Read and write", "admin": "Admin (users and system)"}
EXPIRY_OPTIONS = [("" if days is None else str(days), "Never" if days is None else f"In {days} days")
                  for days in service.EXPIRY_CHOICES]  # fmt: skip


async def _page(request: Request, **extra: Any) -> Response:
    status_code = extra.pop("status_code", 200)
    async with app_context(request).db.transaction() as session:
        tokens = await service.list_tokens(session, current_user(request).id)
    scopes = service.scope_choices(current_user(request).is_admin)
    context = {"tokens": tokens, "scope_options": [(s, SCOPE_LABELS[s]) for s in scopes],
               "expiry_options": EXPIRY_OPTIONS, "form": {}, "errors": {}, "issued": None,
               "public_base": app_context(request).settings.public_url.rstrip("/")} | extra  # fmt: skip
    return render(request, "tokens/page.html", context, status_code=status_code)


@login_required
async def tokens_page(request: Request) -> Response:
    return await _page(request)


@login_required
async def create_token(request: Request) -> Response:
    form = await read_form(request)
    user_id = current_user(request).id
    try:
        async with app_context(request).db.transaction() as session:
            issued = await service.create_token(
                session, user_id, form.get("name", ""), form.get("scope", "write"), _expiry(form.get("expires_in_days"))
            )
    except ValidationFailed as exc:
        return await _page(request, form=form, errors=exc.errors, status_code=400)
    # The secret is rendered in this one response and never again.
    response = await _page(request, issued=issued.secret)
    response.headers["Cache-Control"] = "no-store"
    return response


def _expiry(raw: str | None) -> int | None:
    """The form's lifetime in days ("" = never); something else is refused by the service."""
    if not raw:
        return None
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 5 else -1


@login_required
async def revoke_token(request: Request) -> Response:
    token_id: uuid.UUID = request.path_params["token_id"]
    async with app_context(request).db.transaction() as session:
        await service.revoke_token(session, current_user(request).id, token_id)
    return redirect(request, str(request.url_for("tokens:list")))


routes = [
    Route("/tokens", tokens_page, methods=["GET"], name="tokens:list"),
    Route("/tokens", create_token, methods=["POST"], name="tokens:create"),
    Route("/tokens/{token_id:uuid}/revoke", revoke_token, methods=["POST"], name="tokens:revoke"),
]
