"""What the System page reads from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent, Run, RunStatus


@dataclass(frozen=True)
class FailedRun:
    at: datetime
    agent: str | None
    error: str


async def current_revision(session: AsyncSession) -> str | None:
    """The database's Alembic revision (None when it was never migrated)."""
    revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    return str(revision) if revision is not None else None


async def last_failed_runs(session: AsyncSession, limit: int = 10) -> list[FailedRun]:
    """The newest failures: when, which agent, the error sentence (never anyone's messages)."""
    at = func.coalesce(Run.finished_at, Run.created_at)
    rows = await session.execute(
        select(at, Agent.name, Run.error)
        .outerjoin(Agent, Agent.id == Run.agent_id)
        .where(Run.status == RunStatus.FAILED)
        .order_by(at.desc())
        .limit(limit)
    )
    return [FailedRun(when, agent, error or "No error recorded.") for when, agent, error in rows]
