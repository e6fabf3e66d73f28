"""One-time password reset links: an administrator makes one, the user sets a new password with it.

The token is random and stored only as its sha256; a link works once, for `RESET_HOURS`,
and only the newest link of a user works. Using it ends every session of the user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.db import utcnow
from app.errors import NotFound, ValidationFailed, require
from app.models import PasswordReset, User
from app.security.passwords import hash_password, password_problem
from app.security.tokens import new_token, token_hash

RESET_HOURS = 24


@dataclass(frozen=True)
class ResetLink:
    user: User
    token: str
    expires_at: datetime


class LinkUnusable(Exception):
    """The link is unknown (404), used or expired (410); the message says which, for the person holding it."""

    def __init__(self, message: str, status: int = 410) -> None:
        super().__init__(message)
        self.status = status


async def create(session: AsyncSession, user_id: uuid.UUID, created_by: uuid.UUID, login_mode: str) -> ResetLink:
    """A new link for the user; any earlier unused link of theirs stops working."""
    user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound(str(user_id))
    if login_mode == "oidc":
        raise ValidationFailed({"user": "Passwords are turned off here (single sign-on only): there is none to reset."})
    if not user.password_hash:
        sso = f"{user.email} signs in with single sign-on and has no password here to reset."
        raise ValidationFailed({"user": sso})
    await repository.delete_unused_resets(session, user.id)
    token = new_token()
    expires_at = utcnow() + timedelta(hours=RESET_HOURS)
    session.add(PasswordReset(id=token_hash(token), user_id=user.id, created_by_id=created_by, expires_at=expires_at))
    await session.flush()
    return ResetLink(user=user, token=token, expires_at=expires_at)


async def check(session: AsyncSession, token: str) -> tuple[PasswordReset, User]:
    """The reset and its user, if the link can still be used; else `LinkUnusable`."""
    found = await repository.get_reset(session, token_hash(token))
    if found is None:
        raise LinkUnusable("This password reset link is not valid. Ask your administrator for a new one.", 404)
    reset, user = found
    if reset.used_at is not None:
        raise LinkUnusable("This password reset link was already used. Ask your administrator for a new one.")
    if reset.expires_at <= utcnow():
        raise LinkUnusable("This password reset link has expired. Ask your administrator for a new one.")
    return reset, user


async def use(session: AsyncSession, token: str, new: str, confirm: str) -> User:
    """Set the password, spend the link and end every session of the user."""
    reset, user = await check(session, token)
    errors: dict[str, str] = {}
    if problem := password_problem(new):
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = "The two passwords differ."
    require(errors)
    if not await repository.spend_reset(session, reset.id, utcnow()):
        # Another request spent it between our read and this write.
        raise LinkUnusable("This password reset link was already used. Ask your administrator for a new one.")
    user.password_hash = hash_password(new)
    # The person chose this password: a generated one no longer needs replacing.
    user.must_change_password = False
    await repository.delete_user_sessions(session, user.id)
    return user
