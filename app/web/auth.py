"""Who is asking: the user type the auth backend produces, and guards for views."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.authentication import BaseUser
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from app.web.errors import is_api_request, problem
from app.web.htmx import is_htmx

View = Callable[[Request], Awaitable[Response]]
ADMIN_SCOPE = "admin"
# Whether a connection's credentials still sign in the user they signed in at first.
CredentialCheck = Callable[[HTTPConnection], Awaitable[bool]]


@dataclass(frozen=True)
class CurrentUser(BaseUser):
    id: uuid.UUID
    email: str
    is_admin: bool
    timezone: str
    session_id: str | None = None
    # None for a browser session; "read", "write" or "admin" for an API token.
    token_scope: str | None = None
    theme: str = "system"
    # A generated password not yet replaced: pages send the browser to the form that replaces it.
    must_change_password: bool = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.email

    @property
    def identity(self) -> str:
        return str(self.id)


def current_user(request: Request) -> CurrentUser:
    user = request.user
    assert isinstance(user, CurrentUser), "view is missing @login_required"
    return user


async def still_authenticated(conn: HTTPConnection) -> bool:
    """Re-check the session cookie or API token `conn` came with (one short transaction).

    The check is the app's authentication backend, which create_app hands over as
    `app.state.reauthenticate`: plumbing cannot name the accounts feature.
    """
    check: CredentialCheck = conn.app.state.reauthenticate
    return await check(conn)


def allowed_before_password_change(view: View) -> View:
    """Marks a view a browser may use while its generated password waits to be changed."""
    view.allowed_before_password_change = True  # type: ignore[attr-defined]
    return view


def login_required(view: View) -> View:
    @functools.wraps(view)
    async def guarded(request: Request) -> Response:
        if not request.user.is_authenticated:
            return _unauthenticated(request)
        if _password_change_pending(request, view):
            return _to_password_change(request)
        if is_api_request(request) and not _scope_allows(request):
            return problem(403, "This API token is read-only: this needs a write token.", request=request)
        return await view(request)

    return guarded


def admin_required(view: View) -> View:
    @functools.wraps(view)
    async def guarded(request: Request) -> Response:
        if not request.user.is_authenticated:
            return _unauthenticated(request)
        user = current_user(request)
        if _password_change_pending(request, view):
            return _to_password_change(request)
        if not user.is_admin:
            return problem(403, "Only administrators can do this.", request=request)
        if user.token_scope not in (None, ADMIN_SCOPE):
            return problem(403, "This needs an API token with the admin scope.", request=request)
        return await view(request)

    return guarded


def _scope_allows(request: Request) -> bool:
    user = current_user(request)
    return request.method in ("GET", "HEAD", "OPTIONS") or user.token_scope != "read"


def _password_change_pending(request: Request, view: View) -> bool:
    """API tokens are unaffected: only the browser session of such a user is held back."""
    user = current_user(request)
    exempt = getattr(view, "allowed_before_password_change", False)
    return user.must_change_password and user.token_scope is None and not exempt


def _to_password_change(request: Request) -> Response:
    target = str(request.url_for("settings:page")) + "#password"
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _unauthenticated(request: Request) -> Response:
    if is_api_request(request):
        detail = "Send a valid API token as 'Authorization: Bearer <token>'."
        return problem(401, detail, request=request)
    login_url = request.url_for("accounts:login").include_query_params(next=request.url.path)
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": str(login_url)})
    return RedirectResponse(str(login_url), status_code=303)
