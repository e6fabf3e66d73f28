"""SQL for agents, always scoped to their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent


async def list_agents(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[Agent]:
    query = select(Agent).where(Agent.owner_id == owner_id).order_by(Agent.is_default.desc(), Agent.name)
    return (await session.scalars(query)).all()


async def count_agents(session: AsyncSession, owner_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).where(Agent.owner_id == owner_id)) or 0)


async def get_agent(session: AsyncSession, owner_id: uuid.UUID, agent_id: uuid.UUID) -> Agent | None:
    query = select(Agent).where(Agent.id == agent_id, Agent.owner_id == owner_id)
    return await session.scalar(query)


async def get_by_slug(session: AsyncSession, owner_id: uuid.UUID, slug: str) -> Agent | None:
    query = select(Agent).where(Agent.slug == slug, Agent.owner_id == owner_id)
    return await session.scalar(query)


async def get_by_name(session: AsyncSession, owner_id: uuid.UUID, name: str) -> Agent | None:
    query = select(Agent).where(Agent.name == name, Agent.owner_id == owner_id)
    return await session.scalar(query)


async def clear_default(session: AsyncSession, owner_id: uuid.UUID) -> None:
    await session.execute(update(Agent).where(Agent.owner_id == owner_id).values(is_default=False))
