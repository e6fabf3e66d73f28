"""SQL for users, login sessions and invite codes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import InviteCode, PasswordReset, Role, User, UserSession
from app.pagination import Keyset, newest_first


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def list_users(session: AsyncSession) -> Sequence[User]:
    return (await session.scalars(select(User).order_by(User.created_at, User.email))).all()


async def users_after(session: AsyncSession, after: Keyset | None, limit: int) -> Sequence[User]:
    return (await session.scalars(newest_first(select(User), User.created_at, User.id, after, limit))).all()


async def count_active_admins(session: AsyncSession) -> int:
    query = select(func.count()).where(User.role == Role.ADMIN, User.is_active.is_(True))
    return int(await session.scalar(query) or 0)


async def get_live_session(session: AsyncSession, session_id: str, now: datetime) -> tuple[UserSession, User] | None:
    query = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id, UserSession.expires_at > now, User.is_active)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def delete_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.id == session_id))


async def touch_session(session: AsyncSession, session_id: str, ip: str | None, now: datetime) -> None:
    await session.execute(update(UserSession).where(UserSession.id == session_id).values(ip=ip, last_seen_at=now))


async def delete_user_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(UserSession).where(UserSession.user_id == user_id))


async def get_invite_by_code(session: AsyncSession, code: str) -> InviteCode | None:
    return await session.scalar(select(InviteCode).where(InviteCode.code == code.strip()))


async def list_invites(session: AsyncSession) -> Sequence[InviteCode]:
    query = select(InviteCode).order_by(InviteCode.created_at.desc())
    return (await session.scalars(query)).all()


async def invites_after(session: AsyncSession, after: Keyset | None, limit: int) -> Sequence[InviteCode]:
    query = newest_first(select(InviteCode), InviteCode.created_at, InviteCode.id, after, limit)
    return (await session.scalars(query)).all()


async def get_invite(session: AsyncSession, invite_id: uuid.UUID) -> InviteCode | None:
    return await session.get(InviteCode, invite_id)


async def get_reset(session: AsyncSession, reset_id: str) -> tuple[PasswordReset, User] | None:
    query = select(PasswordReset, User).join(User, User.id == PasswordReset.user_id).where(PasswordReset.id == reset_id)
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def delete_unused_resets(session: AsyncSession, user_id: uuid.UUID) -> None:
    unused = PasswordReset.used_at.is_(None)
    await session.execute(delete(PasswordReset).where(PasswordReset.user_id == user_id, unused))


async def spend_reset(session: AsyncSession, reset_id: str, now: datetime) -> bool:
    """Mark the link used; False when it was used already (a concurrent request won)."""
    query = update(PasswordReset).where(PasswordReset.id == reset_id, PasswordReset.used_at.is_(None))
    result = await session.execute(query.values(used_at=now))
    return bool(getattr(result, "rowcount", 0))
