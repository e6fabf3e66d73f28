"""Settings rules: the theme, the defaults new threads use, and the user's login sessions."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts
from app.errors import NotFound, ValidationFailed, require
from app.models import Agent, User
from app.models.user import Theme
from app.preferences import repository
from app.preferences.devices import describe_device
from app.tool_settings import service as tool_settings

THEME_CHOICES = ((Theme.SYSTEM, "Same as this device"), (Theme.LIGHT, "Light"), (Theme.DARK, "Dark"))
# A session id is the sha256 of its token; anything else names no session.
SESSION_ID = re.compile(r"^[0-9a-f]{64}$")


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    return await accounts.get_user(session, user_id)


async def set_theme(session: AsyncSession, user_id: uuid.UUID, value: str) -> User:
    try:
        theme = Theme(value)
    except ValueError:
        raise ValidationFailed({"theme": "Choose system, light or dark."}) from None
    user = await accounts.get_user(session, user_id)
    user.theme = theme
    return user


@dataclass(frozen=True)
class Defaults:
    agent_id: str
    timezone: str


async def set_defaults(session: AsyncSession, user_id: uuid.UUID, agents: Sequence[Agent], data: Defaults) -> User:
    """The agent new threads start with, and the timezone dates and the datetime tool use.

    Both fields are checked before either is saved, so one error loses nothing of the other."""
    user = await accounts.get_user(session, user_id)
    errors: dict[str, str] = {}
    agent_id = _uuid(data.agent_id)
    if agents and (agent_id is None or all(agent.id != agent_id for agent in agents)):
        errors["agent_id"] = "Choose one of your agents."
    try:
        tool_settings.set_timezone(user, data.timezone.strip())
    except ValidationFailed as exc:
        errors.update(exc.errors)
    require(errors)
    if agent_id is not None:
        await repository.make_default_agent(session, user_id, agent_id)
    return user


@dataclass(frozen=True)
class SessionView:
    id: str
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    is_current: bool


async def sessions(session: AsyncSession, user_id: uuid.UUID, current_id: str | None) -> list[SessionView]:
    """The user's live sessions, this one first."""
    rows = await repository.live_sessions(session, user_id)
    views = [
        SessionView(
            id=row.id,
            device=describe_device(row.user_agent),
            ip=row.ip,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at or row.created_at,
            is_current=row.id == current_id,
        )
        for row in rows
    ]
    return sorted(views, key=lambda view: not view.is_current)


async def end_session(session: AsyncSession, user_id: uuid.UUID, session_id: str) -> None:
    if not SESSION_ID.match(session_id) or not await repository.delete_owned_session(session, user_id, session_id):
        raise NotFound(session_id)


async def end_other_sessions(session: AsyncSession, user_id: uuid.UUID, current_id: str) -> int:
    return await repository.delete_sessions_except(session, user_id, current_id)


def timezone_names() -> tuple[str, ...]:
    return tool_settings.timezone_names()


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None
