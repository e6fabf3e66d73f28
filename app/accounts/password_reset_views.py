"""The page a password reset link opens: set a new password, once, before the link expires."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import password_reset
from app.errors import ValidationFailed
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.templates import render

# The token is in the URL: no other site may learn it, and no cache may keep it. (Not
# "no-referrer": Chromium then sends `Origin: null` with the form, which CSRF refuses.)
PRIVATE_HEADERS = {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    base = {"form": {}, "errors": {}, "token": request.path_params["token"], "unusable": None, "done": False}
    response = render(request, "accounts/reset_password.html", base | context, status_code=status_code)
    response.headers.update(PRIVATE_HEADERS)
    return response


async def reset_page(request: Request) -> Response:
    try:
        async with app_context(request).db.transaction() as session:
            _reset, user = await password_reset.check(session, request.path_params["token"])
    except password_reset.LinkUnusable as exc:
        return _page(request, exc.status, unusable=str(exc))
    return _page(request, email=user.email)


async def reset_submit(request: Request) -> Response:
    form = await read_form(request)
    token, email = request.path_params["token"], ""
    try:
        async with app_context(request).db.transaction() as session:
            email = (await password_reset.check(session, token))[1].email
            await password_reset.use(session, token, form.get("new_password", ""), form.get("confirm_password", ""))
    except password_reset.LinkUnusable as exc:
        return _page(request, exc.status, unusable=str(exc))
    except ValidationFailed as exc:
        return _page(request, 400, email=email, errors=exc.errors)
    return _page(request, email=email, done=True)


routes = [
    Route("/password-reset/{token:str}", reset_page, methods=["GET"], name="accounts:reset_password"),
    Route("/password-reset/{token:str}", reset_submit, methods=["POST"], name="accounts:reset_password_submit"),
]
