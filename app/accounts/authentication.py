"""Starlette authentication backend: session cookie for pages, Bearer token for the API."""

from __future__ import annotations

from itsdangerous import BadSignature, Signer
from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from app import logs
from app.accounts import service
from app.models import User
from app.settings import Settings
from app.tokens import service as token_service
from app.web.auth import CurrentUser
from app.web.csrf import host_cookie
from app.web.deps import app_context
from app.web.paths import is_api_path

SESSION_COOKIE = "nova_session"
UNAUTHENTICATED_PATHS = ("/static/", "/healthz", "/readyz")


def session_signer(secret_key: str) -> Signer:
    return Signer(secret_key, salt="nova.session")


def session_cookie(settings: Settings) -> str:
    return host_cookie(SESSION_COOKIE, secure=settings.secure_cookies)


class NovaAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        path = conn.url.path
        if path.startswith(UNAUTHENTICATED_PATHS):
            return None
        found = await (self._from_bearer(conn) if is_api_path(path) else self._from_cookie(conn))
        if found is not None and isinstance(found[1], CurrentUser):  # the request's log lines name its user
            logs.user_id.set(str(found[1].id))
        return found

    async def still_valid(self, conn: HTTPConnection) -> bool:
        """Whether the cookie or token `conn` was let in with still signs in the same user
        (open streams ask: a suspension, a revoked token or a new password ends them)."""
        found = await self.authenticate(conn)
        return found is not None and found[1].identity == conn.user.identity

    async def _from_bearer(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        scheme, _, secret = conn.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        async with app_context(conn).db.transaction() as session:
            found = await token_service.user_for_token(session, secret.strip())
        if found is None:
            return None
        token, user = found
        return _credentials(user), _current_user(user, token_scope=token.scope.value)

    async def _from_cookie(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        ctx = app_context(conn)
        cookie = conn.cookies.get(session_cookie(ctx.settings))
        if not cookie:
            return None
        try:
            token = session_signer(ctx.keys.secret_key).unsign(cookie).decode()
        except BadSignature:
            return None
        async with ctx.db.sessionmaker() as session:
            found = await service.session_user(session, token)
        if found is None:
            return None
        user_session, user = found
        ip = conn.client.host if conn.client else None
        if service.activity_to_record(user_session, ip):
            async with ctx.db.transaction() as session:
                await service.record_activity(session, user_session.id, ip)
        return _credentials(user), _current_user(user, session_id=user_session.id)


def _credentials(user: User) -> AuthCredentials:
    return AuthCredentials(["authenticated", "admin"] if user.is_admin else ["authenticated"])


def _current_user(user: User, *, session_id: str | None = None, token_scope: str | None = None) -> CurrentUser:
    return CurrentUser(
        id=user.id,
        email=user.email,
        is_admin=user.is_admin,
        timezone=user.timezone,
        session_id=session_id,
        token_scope=token_scope,
        theme=user.theme.value,
        must_change_password=user.must_change_password,
    )
