"""Create, list and revoke personal API tokens; a token is shown once and stored hashed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.models import ApiToken, TokenScope, User
from app.pagination import Keyset, Page, page_of
from app.security.tokens import new_api_token, token_hash
from app.tokens import repository

# last_used_at is only written when older than this, to keep API reads write-free.
LAST_USED_RESOLUTION_SECONDS = 60
# Choices for a new token's lifetime, in days; None never expires.
EXPIRY_CHOICES: tuple[int | None, ...] = (None, 7, 30, 90, 365)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


async def create_token(
    session: AsyncSession, user_id: uuid.UUID, name: str, scope: str, expires_in_days: int | None = None
) -> IssuedToken:
    """A new token for the user; the admin scope is only for administrators."""
    name = name.strip()
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(str(user_id))
    errors: dict[str, str] = {}
    if not name or len(name) > 100:
        errors["name"] = "Give the token a name of 1 to 100 characters."
    elif await repository.get_by_name(session, user_id, name):
        errors["name"] = "You already have a token with this name."
    if scope not in scope_choices(user.is_admin):
        errors["scope"] = "Choose " + " or ".join(scope_choices(user.is_admin)) + "."
    if expires_in_days not in EXPIRY_CHOICES:
        errors["expires_in_days"] = "Choose a lifetime from the list."
    if errors:
        raise ValidationFailed(errors)
    secret = new_api_token()
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=token_hash(secret),
        hint=secret[:9],
        scope=TokenScope(scope),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token=token, secret=secret)


def scope_choices(is_admin: bool) -> list[str]:
    """The scopes a user may give a token: admin only for administrators."""
    scopes = [TokenScope.READ.value, TokenScope.WRITE.value]
    return [*scopes, TokenScope.ADMIN.value] if is_admin else scopes


async def list_tokens(session: AsyncSession, user_id: uuid.UUID) -> Sequence[ApiToken]:
    return await repository.list_tokens(session, user_id)


async def tokens_after(session: AsyncSession, user_id: uuid.UUID, cursor: str | None, limit: int) -> Page[ApiToken]:
    """A page of the user's tokens for the API, newest first."""
    after = Keyset.decode(cursor) if cursor else None
    rows = await repository.tokens_after(session, user_id, after, limit)
    return page_of(rows, limit, lambda t: (t.created_at, t.id))


async def revoke_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    if not await repository.delete_token(session, user_id, token_id):
        raise NotFound(str(token_id))


async def user_for_token(session: AsyncSession, secret: str) -> tuple[ApiToken, User] | None:
    """The token and its user, if the token exists, has not expired and the user is not suspended."""
    found = await repository.get_active_user_by_hash(session, token_hash(secret))
    if found is None:
        return None
    token, _user = found
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    last = token.last_used_at
    if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        token.last_used_at = now
    return found
