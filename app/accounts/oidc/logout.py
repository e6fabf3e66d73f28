"""What logging out needs from single sign-on: the session's ID token, read before the session
ends, and the provider's logout URL (RP-initiated logout) to send the browser on to.

The browser gets there from a page, not from a redirect: the logout form's answer may only
lead to Nova itself (Content-Security-Policy `form-action 'self'`, which browsers apply to
every redirect after a form is sent), while a page's `Refresh` is a navigation of its own.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.authentication import UnauthenticatedUser
from starlette.requests import Request
from starlette.responses import Response

from app.accounts.oidc import service
from app.accounts.oidc.client import provider_for
from app.accounts.oidc.errors import ProviderError
from app.web.deps import app_context
from app.web.templates import render

log = logging.getLogger(__name__)


async def id_token_of(session: AsyncSession, session_id: str) -> str | None:
    """The ID token a single sign-on session started with; None for a password login."""
    return await service.id_token_of(session, session_id)


async def provider_logout_url(request: Request, id_token: str | None) -> str | None:
    """Where the provider ends its own session and sends the browser back to the login page;
    None when there is nothing to end there (or the provider cannot be asked)."""
    if id_token is None or app_context(request).settings.login_mode == "local":
        return None
    try:
        return await provider_for(request).end_session_url(
            id_token_hint=id_token, post_logout_redirect_uri=str(request.url_for("accounts:login"))
        )
    except ProviderError as exc:  # Nova's session is over anyway; the provider's stays
        log.warning("single sign-on: no provider logout: %s", exc)
        return None


def continue_to_provider(request: Request, url: str) -> Response:
    """A page that goes on to the provider's logout at once, with a link should it not."""
    request.scope["user"] = UnauthenticatedUser()  # the session has ended: draw the page for nobody
    context = {"provider_logout_url": url, "provider_name": app_context(request).settings.oidc_provider_name}
    response = render(request, "accounts/logout_provider.html", context)
    response.headers["Refresh"] = f"0; url={url}"
    return response
