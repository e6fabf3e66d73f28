"""Account rules: who may log in, sessions, registration, passwords, suspension."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.db import utcnow
from app.errors import NotFound, ValidationFailed, require
from app.models import InviteCode, Role, User, UserSession
from app.pagination import Keyset, Page, page_of
from app.security.passwords import hash_password, password_problem, verify_password
from app.security.tokens import new_token, token_hash

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
INVITE_DAYS_DEFAULT = 7
# How stale a session's "last seen" may get before a request refreshes it (one write, not one per request).
ACTIVITY_INTERVAL = timedelta(minutes=5)


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(session: AsyncSession, email: str, password: str, role: Role = Role.USER) -> User:
    email = normalise_email(email)
    errors: dict[str, str] = {}
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        errors["email"] = "Enter an email address like name@example.com."
    elif await repository.get_user_by_email(session, email):
        errors["email"] = "An account with this email already exists."
    if problem := password_problem(password):
        errors["password"] = problem
    require(errors)
    user = User(email=email, password_hash=hash_password(password), role=role, is_active=True)
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    user = await repository.get_user_by_email(session, normalise_email(email))
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        return None
    return user


async def start_session(session: AsyncSession, user: User, *, days: int, ip: str | None, user_agent: str | None) -> str:
    """Create a login session and return the raw token for the cookie (stored hashed)."""
    token = new_token()
    session.add(
        UserSession(
            id=token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=days),
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    await session.flush()
    return token


def session_id(token: str) -> str:
    """The stored id of the session whose cookie holds `token`."""
    return token_hash(token)


async def session_user(session: AsyncSession, token: str) -> tuple[UserSession, User] | None:
    return await repository.get_live_session(session, token_hash(token), utcnow())


async def end_session(session: AsyncSession, session_id: str) -> None:
    await repository.delete_session(session, session_id)


def activity_to_record(user_session: UserSession, ip: str | None) -> bool:
    """Whether a request on this session should refresh its last use and address."""
    seen = user_session.last_seen_at or user_session.created_at
    return ip != user_session.ip or utcnow() - seen > ACTIVITY_INTERVAL


async def record_activity(session: AsyncSession, session_id: str, ip: str | None) -> None:
    await repository.touch_session(session, session_id, ip, utcnow())


async def change_password(session: AsyncSession, user_id: uuid.UUID, current: str, new: str, confirm: str) -> User:
    """Change the password and end every session of the user (the caller starts a new one)."""
    user = await _user_or_404(session, user_id)
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current):
        errors["current_password"] = "This is not your current password."
    if problem := password_problem(new):
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = "The two new passwords differ."
    require(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    await repository.delete_user_sessions(session, user.id)
    return user


async def set_active(session: AsyncSession, user_id: uuid.UUID, active: bool) -> User:
    """Suspend or reactivate; suspension ends every session at once."""
    user = await _user_or_404(session, user_id)
    if not active and user.is_admin and await repository.count_active_admins(session) <= 1:
        raise ValidationFailed({"user": "The last active administrator cannot be suspended."})
    user.is_active = active
    if not active:
        await repository.delete_user_sessions(session, user.id)
    return user


async def set_role(session: AsyncSession, user_id: uuid.UUID, role: Role) -> User:
    """Promote or demote; as with suspension, the last active administrator stays one."""
    user = await _user_or_404(session, user_id)
    demoting_an_active_admin = role is not Role.ADMIN and user.is_admin and user.is_active
    if demoting_an_active_admin and await repository.count_active_admins(session) <= 1:
        raise ValidationFailed({"role": "The last active administrator cannot stop being one."})
    user.role = role
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    return await _user_or_404(session, user_id)


async def users_after(session: AsyncSession, cursor: str | None, limit: int) -> Page[User]:
    """A page of every account for the admin API, newest first."""
    after = Keyset.decode(cursor) if cursor else None
    return page_of(await repository.users_after(session, after, limit), limit, lambda u: (u.created_at, u.id))


async def suspend_by_email(session: AsyncSession, email: str) -> User:
    user = await repository.get_user_by_email(session, email)
    if user is None:
        raise NotFound(email)
    return await set_active(session, user.id, active=False)


async def create_invite(session: AsyncSession, created_by: uuid.UUID, days: int = INVITE_DAYS_DEFAULT) -> InviteCode:
    if not 1 <= days <= 365:
        raise ValidationFailed({"days": "Choose between 1 and 365 days."})
    invite = InviteCode(
        code=secrets.token_urlsafe(12),
        created_by_id=created_by,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(invite)
    await session.flush()
    return invite


async def invites_after(session: AsyncSession, cursor: str | None, limit: int) -> Page[InviteCode]:
    after = Keyset.decode(cursor) if cursor else None
    return page_of(await repository.invites_after(session, after, limit), limit, lambda i: (i.created_at, i.id))


async def delete_invite(session: AsyncSession, invite_id: uuid.UUID) -> None:
    """Withdraw a code (a used one goes too: the account it made stays)."""
    invite = await repository.get_invite(session, invite_id)
    if invite is None:
        raise NotFound(str(invite_id))
    await session.delete(invite)


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    invite_code: str


async def register(session: AsyncSession, form: Registration, env_invite_code: str | None) -> User:
    """Create an account for a valid invite: an unused, unexpired code, or the env code."""
    invite = await repository.get_invite_by_code(session, form.invite_code)
    env_match = bool(env_invite_code) and secrets.compare_digest(form.invite_code.strip(), env_invite_code or "")
    if not env_match and (invite is None or not invite.usable()):
        raise ValidationFailed({"invite_code": "This invite code is not valid or was used."})
    user = await create_user(session, form.email, form.password)
    if invite is not None and not env_match:
        invite.used_at = utcnow()
        invite.used_by_id = user.id
    return user


@dataclass(frozen=True)
class AdminCredentials:
    email: str
    generated_password: str | None


async def ensure_admin(session: AsyncSession, email: str, password: str | None) -> AdminCredentials | None:
    """Create the first admin if there is none; returns what to tell the operator."""
    if await repository.count_active_admins(session) > 0:
        return None
    existing = await repository.get_user_by_email(session, email)
    if existing is not None:
        existing.role, existing.is_active = Role.ADMIN, True
        if password:
            existing.password_hash = hash_password(password)
        return AdminCredentials(email=existing.email, generated_password=None)
    generated = None if password else secrets.token_urlsafe(12)
    user = await create_user(session, email, password or generated or "", role=Role.ADMIN)
    # A password printed in a terminal (and its scrollback) is replaced at the first login.
    user.must_change_password = generated is not None
    return AdminCredentials(email=user.email, generated_password=generated)


async def _user_or_404(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound(str(user_id))
    return user
