"""The numbers under a finished reply: tokens, time to first token, speed (threads/_reply_stats.html).

Read from the run rows: a page of messages loads those it shows in one query (`for_runs`), the
live reply's final frame from the run it just committed (`of_run`). A provider that reports
no usage, or a reply with no token at all, shows "—" for what is unknown.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Run

UNKNOWN = "—"


@dataclass(frozen=True)
class ReplyStats:
    prompt_tokens: int | None
    completion_tokens: int | None
    first_token_seconds: float | None  # from the run's start to its first token
    tokens_per_second: float | None  # completion tokens over the time they were written in

    @property
    def tokens(self) -> str:
        """Prompt → completion tokens, e.g. "12 → 340"."""
        if self.completion_tokens is None:
            return UNKNOWN
        return f"{_count(self.prompt_tokens)} → {_count(self.completion_tokens)}"

    @property
    def first_token(self) -> str:
        seconds = self.first_token_seconds
        return UNKNOWN if seconds is None else f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"

    @property
    def speed(self) -> str:
        return UNKNOWN if self.tokens_per_second is None else f"{self.tokens_per_second:.1f}"


def _count(value: int | None) -> str:
    return UNKNOWN if value is None else f"{value:,}"


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    return seconds if seconds >= 0 else None


def stats(
    prompt: int | None, completion: int | None, started: datetime | None, first: datetime | None, end: datetime | None
) -> ReplyStats:
    writing = _seconds(first, end)
    # A reply written in one chunk has no measurable pace: unknown rather than a huge number.
    speed = completion / writing if completion and writing else None
    return ReplyStats(prompt, completion, _seconds(started, first), speed)


def of_run(run: Run) -> ReplyStats:
    return stats(run.prompt_tokens, run.completion_tokens, run.started_at, run.first_token_at, run.finished_at)


async def for_runs(session: AsyncSession, run_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ReplyStats]:
    """The stats of the runs shown on a page, by run id: one query for the whole page."""
    if not run_ids:
        return {}
    query = select(
        Run.id, Run.prompt_tokens, Run.completion_tokens, Run.started_at, Run.first_token_at, Run.finished_at
    ).where(Run.id.in_(run_ids), Run.finished_at.is_not(None))
    return {row[0]: stats(*row[1:]) for row in await session.execute(query)}
