"""SQL for the Settings page and the first-run checklist."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models import Agent, Message, MessageRole, Thread, UserSession


async def live_sessions(session: AsyncSession, user_id: uuid.UUID) -> Sequence[UserSession]:
    query = (
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.expires_at > utcnow())
        .order_by(UserSession.created_at.desc())
    )
    return (await session.scalars(query)).all()


async def delete_owned_session(session: AsyncSession, user_id: uuid.UUID, session_id: str) -> bool:
    """Whether a session of this user's went (another user's id deletes nothing)."""
    query = delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id)
    return bool((await session.execute(query)).rowcount)  # type: ignore[attr-defined]


async def delete_sessions_except(session: AsyncSession, user_id: uuid.UUID, keep_id: str) -> int:
    query = delete(UserSession).where(UserSession.user_id == user_id, UserSession.id != keep_id)
    return int((await session.execute(query)).rowcount)  # type: ignore[attr-defined]


async def make_default_agent(session: AsyncSession, owner_id: uuid.UUID, agent_id: uuid.UUID) -> bool:
    """One default agent per user, as the Agents page keeps it; False if the agent is not theirs."""
    if await session.scalar(select(Agent.id).where(Agent.id == agent_id, Agent.owner_id == owner_id)) is None:
        return False
    await session.execute(update(Agent).where(Agent.owner_id == owner_id).values(is_default=Agent.id == agent_id))
    return True


async def has_sent_a_message(session: AsyncSession, user_id: uuid.UUID) -> bool:
    query = select(
        exists().where(Message.thread_id == Thread.id, Thread.owner_id == user_id, Message.role == MessageRole.USER)
    )
    return bool(await session.scalar(query))
