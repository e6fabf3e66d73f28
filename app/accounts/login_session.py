"""Starting a login session and handing its cookie to the browser: the same for a password
and for single sign-on."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app.accounts import service
from app.accounts.authentication import session_cookie, session_signer
from app.models import User
from app.web.deps import app_context


async def start_login_session(request: Request, session: AsyncSession, user: User) -> str:
    """A new session for `user`; the raw token, for `set_session_cookie`."""
    return await service.start_session(
        session,
        user,
        days=app_context(request).settings.session_days,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = app_context(request).settings
    response.set_cookie(
        session_cookie(settings),
        session_signer(app_context(request).keys.secret_key).sign(token).decode(),
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
