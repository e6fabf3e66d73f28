"""SQL for personal API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiToken, User
from app.pagination import Keyset, newest_first


async def list_tokens(session: AsyncSession, user_id: uuid.UUID) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
    return (await session.scalars(query)).all()


async def tokens_after(
    session: AsyncSession, user_id: uuid.UUID, after: Keyset | None, limit: int
) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id)
    return (await session.scalars(newest_first(query, ApiToken.created_at, ApiToken.id, after, limit))).all()


async def get_by_name(session: AsyncSession, user_id: uuid.UUID, name: str) -> ApiToken | None:
    query = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.name == name)
    return await session.scalar(query)


async def get_active_user_by_hash(session: AsyncSession, digest: str) -> tuple[ApiToken, User] | None:
    query = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest, User.is_active)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def delete_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> bool:
    result = await session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
