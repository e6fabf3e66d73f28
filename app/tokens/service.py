"""Create, list and revoke personal API tokens; a token is shown once and stored hashed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.models import ApiToken, TokenScope, User
from app.security.tokens import new_api_token, token_hash
from app.tokens import repository

# last_used_at is only written when older than this, to keep API reads write-free.
LAST_USED_RESOLUTION_SECONDS = 60


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


async def create_token(session: AsyncSession, user_id: uuid.UUID, name: str, scope: str) -> IssuedToken:
    name = name.strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 100:
        errors["name"] = "Give the token a name of 1 to 100 characters."
    elif await repository.get_by_name(session, user_id, name):
        errors["name"] = "You already have a token with this name."
    if scope not in {s.value for s in TokenScope}:
        errors["scope"] = "Choose read or write."
    if errors:
        raise ValidationFailed(errors)
    secret = new_api_token()
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=token_hash(secret),
        hint=secret[:9],
        scope=TokenScope(scope),
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token=token, secret=secret)


async def list_tokens(session: AsyncSession, user_id: uuid.UUID) -> Sequence[ApiToken]:
    return await repository.list_tokens(session, user_id)


async def revoke_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    if not await repository.delete_token(session, user_id, token_id):
        raise NotFound(str(token_id))


async def user_for_token(session: AsyncSession, secret: str) -> tuple[ApiToken, User] | None:
    """The token and its user, if the token exists and the user is not suspended."""
    found = await repository.get_active_user_by_hash(session, token_hash(secret))
    if found is None:
        return None
    token, _user = found
    now = utcnow()
    last = token.last_used_at
    if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        token.last_used_at = now
    return found
