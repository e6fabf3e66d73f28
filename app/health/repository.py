"""What the probes and the metrics scrape read from the database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Run, RunStatus
from app.models.run import TERMINAL_STATUSES

ACTIVE_STATUSES = [status for status in RunStatus if status not in TERMINAL_STATUSES]


async def runs_in_progress(session: AsyncSession) -> dict[str, int]:
    """Every active status, with 0 for those no run has (a gauge never disappears)."""
    rows = await session.execute(
        select(Run.status, func.count()).where(Run.status.in_(ACTIVE_STATUSES)).group_by(Run.status)
    )
    counts = {status.value: 0 for status in ACTIVE_STATUSES}
    counts.update({status.value: count for status, count in rows})
    return counts
