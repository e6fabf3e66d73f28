"""SQL for single sign-on: identities, sign-ins under way, the ID tokens of login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import OidcIdentity, OidcLoginRequest, OidcSession, User


async def get_identity(session: AsyncSession, issuer: str, subject: str) -> tuple[OidcIdentity, User] | None:
    query = (
        select(OidcIdentity, User)
        .join(User, User.id == OidcIdentity.user_id)
        .where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def take_login_request(session: AsyncSession, request_id: str) -> OidcLoginRequest | None:
    """The sign-in, deleted as it is read. Of two callbacks racing with one `state`, the
    second deletes nothing (it waits for the first on PostgreSQL) and gets None."""
    request = await session.get(OidcLoginRequest, request_id)
    if request is None:
        return None
    deleted = await session.execute(delete(OidcLoginRequest).where(OidcLoginRequest.id == request_id))
    return request if deleted.rowcount == 1 else None  # type: ignore[attr-defined]


async def delete_expired_login_requests(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(OidcLoginRequest).where(OidcLoginRequest.expires_at <= now))


async def get_session_id_token(session: AsyncSession, session_id: str) -> str | None:
    return await session.scalar(select(OidcSession.id_token).where(OidcSession.session_id == session_id))
