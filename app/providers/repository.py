"""SQL for providers. Every read is scoped: a user sees their own and the system ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent, Provider, Run, RunStatus
from app.pagination import Keyset, newest_first


def _visible_to(user_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return or_(Provider.owner_id == user_id, Provider.owner_id.is_(None))


async def list_usable(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Provider]:
    query = select(Provider).where(_visible_to(user_id)).order_by(Provider.owner_id.is_(None), Provider.name)
    return (await session.scalars(query)).all()


async def usable_after(
    session: AsyncSession, user_id: uuid.UUID | None, after: Keyset | None, limit: int
) -> Sequence[Provider]:
    """Newest first: the user's own and the system ones; with no user, the system ones only."""
    visible = Provider.owner_id.is_(None) if user_id is None else _visible_to(user_id)
    query = newest_first(select(Provider).where(visible), Provider.created_at, Provider.id, after, limit)
    return (await session.scalars(query)).all()


async def get_usable(session: AsyncSession, user_id: uuid.UUID, provider_id: uuid.UUID) -> Provider | None:
    query = select(Provider).where(Provider.id == provider_id, _visible_to(user_id))
    return await session.scalar(query)


async def get_owned(session: AsyncSession, user_id: uuid.UUID, provider_id: uuid.UUID) -> Provider | None:
    query = select(Provider).where(Provider.id == provider_id, Provider.owner_id == user_id)
    return await session.scalar(query)


async def get_system(session: AsyncSession, provider_id: uuid.UUID) -> Provider | None:
    query = select(Provider).where(Provider.id == provider_id, Provider.owner_id.is_(None))
    return await session.scalar(query)


async def get_by_name(session: AsyncSession, owner_id: uuid.UUID | None, name: str) -> Provider | None:
    owner = Provider.owner_id.is_(None) if owner_id is None else Provider.owner_id == owner_id
    return await session.scalar(select(Provider).where(owner, Provider.name == name))


async def active_run_ids(session: AsyncSession, provider_id: uuid.UUID) -> Sequence[uuid.UUID]:
    """Queued, running or paused runs of agents that use the provider."""
    query = (
        select(Run.id)
        .join(Agent, Agent.id == Run.agent_id)
        .where(
            Agent.provider_id == provider_id,
            Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING]),
        )
    )
    return (await session.scalars(query)).all()
