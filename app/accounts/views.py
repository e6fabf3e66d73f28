"""Login, logout and registration (the Settings page, app/preferences/, holds the password form)."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import service
from app.accounts.authentication import session_cookie
from app.accounts.login_page import render_login
from app.accounts.login_session import set_session_cookie, start_login_session
from app.accounts.oidc import logout as single_sign_on
from app.errors import NotFound, ValidationFailed
from app.security.ratelimit import LoginAttempt, LoginThrottle
from app.web.auth import current_user
from app.web.deps import app_context
from app.web.forms import FormRejected, read_form, safe_next
from app.web.htmx import redirect
from app.web.templates import render


async def login_page(request: Request) -> Response:
    if request.user.is_authenticated:
        return RedirectResponse(request.url_for("threads:list"), status_code=303)
    return render_login(request)


async def login(request: Request) -> Response:
    ctx = app_context(request)
    try:
        form = await read_form(request)
    except FormRejected as exc:
        kept = {"email": exc.form.get("email", ""), "next": exc.form.get("next", "")}
        return render_login(request, kept, exc.errors, status_code=400)
    email = service.normalise_email(form.get("email", ""))
    attempt = LoginAttempt(email, request.client.host if request.client else "unknown")
    throttle = LoginThrottle(ctx.login_limiter, ctx.settings)
    context = {"form": {"email": email, "next": form.get("next", "")}, "errors": {}}
    if ctx.settings.login_mode == "oidc":
        errors = {"form": f"Passwords are turned off here: log in with {ctx.settings.oidc_provider_name}."}
        return render_login(request, context["form"], errors, status_code=400)

    if (wait := math.ceil(await throttle.wait_seconds(attempt))) > 0:
        context["errors"] = {"form": f"Too many failed attempts. Try again in {_duration(wait)}."}
        refused = render_login(request, context["form"], context["errors"], status_code=429)
        refused.headers["Retry-After"] = str(wait)
        return refused

    async with ctx.db.transaction() as session:
        user = await service.authenticate(session, email, form.get("password", ""))
        if user is not None:
            token = await start_login_session(request, session, user)
    if user is None:
        await throttle.failed(attempt)
        context["errors"] = {"form": "Wrong email or password, or the account is suspended."}
        return render_login(request, context["form"], context["errors"], status_code=400)

    await throttle.succeeded(attempt)
    target = safe_next(form.get("next"), str(request.url_for("threads:list")))
    response = redirect(request, target)
    set_session_cookie(request, response, token)
    return response


async def logout(request: Request) -> Response:
    user = request.user
    id_token = None
    if user.is_authenticated and current_user(request).session_id:
        async with app_context(request).db.transaction() as session:
            # Read first: the session's single sign-on ID token goes with it.
            id_token = await single_sign_on.id_token_of(session, current_user(request).session_id or "")
            await service.end_session(session, current_user(request).session_id or "")
    # After a single sign-on, the provider ends its session too and sends the browser back here.
    if provider_logout := await single_sign_on.provider_logout_url(request, id_token):
        response = single_sign_on.continue_to_provider(request, provider_logout)
    else:
        response = redirect(request, str(request.url_for("accounts:login")))
    settings = app_context(request).settings
    response.delete_cookie(session_cookie(settings), path="/", secure=settings.secure_cookies)
    return response


def _registration_open(request: Request) -> None:
    """Registration makes password accounts, which single sign-on only mode turns off."""
    if app_context(request).settings.login_mode == "oidc":
        raise NotFound("registration is off: single sign-on only")


async def register_page(request: Request) -> Response:
    _registration_open(request)
    code = request.query_params.get("code", "")
    return render(request, "accounts/register.html", {"form": {"invite_code": code}, "errors": {}})


async def register(request: Request) -> Response:
    _registration_open(request)
    ctx = app_context(request)
    form = await read_form(request)
    env_code = ctx.settings.registration_invite_code
    registration = service.Registration(
        email=form.get("email", ""),
        password=form.get("password", ""),
        invite_code=form.get("invite_code", ""),
    )
    try:
        async with ctx.db.transaction() as session:
            user = await service.register(session, registration, env_code.get_secret_value() if env_code else None)
            token = await start_login_session(request, session, user)
    except ValidationFailed as exc:
        context = {"form": {**form, "password": ""}, "errors": exc.errors}
        return render(request, "accounts/register.html", context, status_code=400)
    response = redirect(request, str(request.url_for("threads:list")))
    set_session_cookie(request, response, token)
    return response


async def account_page(request: Request) -> Response:
    """The old address of the password form, which the Settings page holds now."""
    return RedirectResponse(request.url_for("settings:page"), status_code=301)


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


routes = [
    Route("/login", login_page, methods=["GET"], name="accounts:login"),
    Route("/login", login, methods=["POST"], name="accounts:login_submit"),
    Route("/logout", logout, methods=["POST"], name="accounts:logout"),
    Route("/register", register_page, methods=["GET"], name="accounts:register"),
    Route("/register", register, methods=["POST"], name="accounts:register_submit"),
    Route("/account", account_page, methods=["GET"], name="accounts:account"),
]
