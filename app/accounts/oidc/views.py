"""The single sign-on round trip: off to the provider, and back with a code for a session.

The `state` goes to the provider and into a short-lived cookie of this browser; its sign-in
(nonce, PKCE verifier, where to go next) is a database row deleted when the state comes
back. So a callback only completes in the browser that started it, and only once.
Whatever goes wrong ends on the login page with a sentence, never an error page.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts.login_page import render_login
from app.accounts.login_session import set_session_cookie, start_login_session
from app.accounts.oidc import service
from app.accounts.oidc.claims import AccessRule, merge_userinfo
from app.accounts.oidc.client import provider_for
from app.accounts.oidc.errors import IdTokenRefused, ProviderError
from app.accounts.service import session_id
from app.errors import NotFound
from app.web.csrf import host_cookie
from app.web.deps import app_context
from app.web.forms import safe_next

if TYPE_CHECKING:
    from app.accounts.oidc.provider import Tokens

STATE_COOKIE = "nova_oidc_state"
UNREACHABLE = "Nova could not reach the sign-in provider. Try again in a moment, or tell an administrator."
EXPIRED = "This sign-in expired or was already used. Log in again."
CANCELLED = "The sign-in provider did not sign you in."
UNVERIFIED = "Nova could not verify the sign-in provider's answer. Log in again, or tell an administrator."
TOKEN_EXPIRED = "The sign-in provider's answer had already expired. Log in again."
NOT_ALLOWED = "Your account at the sign-in provider is not allowed to use Nova. Ask an administrator."
log = logging.getLogger(__name__)


class SignInFailed(Exception):
    """Ends the round trip on the login page with this message."""


async def begin(request: Request) -> Response:
    _require_single_sign_on(request)
    if request.user.is_authenticated:
        return RedirectResponse(request.url_for("threads:list"), status_code=303)
    ctx = app_context(request)
    provider = provider_for(request)
    try:
        await provider.metadata()  # before anything is stored: the provider may be down
    except ProviderError as exc:
        log.warning("single sign-on: discovery failed: %s", exc)
        return render_login(request, errors={"form": UNREACHABLE}, status_code=502)
    threads = str(request.url_for("threads:list"))
    next_url = safe_next(request.query_params.get("next"), threads)
    next_url = next_url if len(next_url) <= service.NEXT_URL_MAX else threads
    async with ctx.db.transaction() as session:
        pending = await service.begin_login(session, next_url)
    url = await provider.authorization_url(redirect_uri=_callback_url(request), state=pending.state,
                                           nonce=pending.nonce, code_verifier=pending.code_verifier)  # fmt: skip
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(_state_cookie(request), pending.state, max_age=service.LOGIN_REQUEST_MINUTES * 60,
                        httponly=True, samesite="lax", secure=ctx.settings.secure_cookies, path="/")  # fmt: skip
    return response


async def callback(request: Request) -> Response:
    _require_single_sign_on(request)
    try:
        token, next_url = await _sign_in(request)
    except SignInFailed as exc:
        response: Response = render_login(request, errors={"form": str(exc)}, status_code=400)
    else:
        response = RedirectResponse(next_url, status_code=303)
        set_session_cookie(request, response, token)
    settings = app_context(request).settings
    response.delete_cookie(_state_cookie(request), path="/", secure=settings.secure_cookies)
    return response


async def _sign_in(request: Request) -> tuple[str, str]:
    """The new session's token and where to go, once every check has passed."""
    pending = await _take_pending(request)
    if error := request.query_params.get("error"):
        log.info("single sign-on: the provider answered %s: %s", error, request.query_params.get("error_description"))
        raise SignInFailed(CANCELLED)
    tokens = await _exchange(request, pending)
    claims = await _checked_claims(request, tokens, pending.nonce)
    rule = AccessRule.from_settings(app_context(request).settings)
    if not rule.lets_in(claims):
        log.info("single sign-on: %s is not in the required group or claim", claims.get("sub"))
        raise SignInFailed(NOT_ALLOWED)
    policy = service.SignInPolicy.from_settings(app_context(request).settings)
    try:
        async with app_context(request).db.transaction() as session:
            user = await service.account_for(session, rule.person(claims), policy)
            token = await start_login_session(request, session, user)
            await service.remember_id_token(session, session_id(token), tokens.id_token)
    except service.SignInRefused as exc:
        raise SignInFailed(str(exc)) from None
    except IntegrityError:  # the same person's first sign-in, twice at once
        raise SignInFailed(EXPIRED) from None
    return token, pending.next_url


async def _take_pending(request: Request) -> service.PendingLogin:
    state = request.query_params.get("state", "")
    cookie = request.cookies.get(_state_cookie(request), "")
    if not state or not secrets.compare_digest(state.encode(), cookie.encode()):
        raise SignInFailed(EXPIRED)
    async with app_context(request).db.transaction() as session:  # committed now: used, whatever follows
        pending = await service.take_login(session, state)
    if pending is None:
        raise SignInFailed(EXPIRED)
    return pending


async def _exchange(request: Request, pending: service.PendingLogin) -> Tokens:
    code = request.query_params.get("code")
    if not code:
        raise SignInFailed(CANCELLED)
    try:
        return await provider_for(request).exchange_code(
            code=code, redirect_uri=_callback_url(request), code_verifier=pending.code_verifier
        )
    except ProviderError as exc:
        log.warning("single sign-on: the code exchange failed: %s", exc)
        raise SignInFailed(UNREACHABLE) from None


async def _checked_claims(request: Request, tokens: Tokens, nonce: str) -> dict[str, object]:
    provider = provider_for(request)
    try:
        claims = await provider.verified_claims(tokens, nonce)
        userinfo = await provider.userinfo(tokens.access_token) if tokens.access_token else {}
        return merge_userinfo(claims, userinfo)
    except IdTokenRefused as exc:
        log.warning("single sign-on: ID token refused: %s", exc)
        raise SignInFailed(TOKEN_EXPIRED if exc.expired else UNVERIFIED) from None
    except (ProviderError, ValueError) as exc:  # the keys or userinfo could not be had, or disagree
        log.warning("single sign-on: claims refused: %s", exc)
        raise SignInFailed(UNVERIFIED) from None


def _require_single_sign_on(request: Request) -> None:
    if app_context(request).settings.login_mode == "local":
        raise NotFound("single sign-on is not configured")


def _callback_url(request: Request) -> str:
    return str(request.url_for("accounts:oidc_callback"))


def _state_cookie(request: Request) -> str:
    return host_cookie(STATE_COOKIE, secure=app_context(request).settings.secure_cookies)


routes = [
    Route("/login/oidc", begin, methods=["GET"], name="accounts:oidc_login"),
    Route("/login/oidc/callback", callback, methods=["GET"], name="accounts:oidc_callback"),
]
