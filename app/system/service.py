"""The System page's report: every check at once, and a plain list of what is wrong."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory

from app import __version__
from app.context import AppContext
from app.health import repository as health_repository
from app.migrate import MIGRATIONS_DIR
from app.system import checks, repository
from app.system.heartbeat import Heartbeat

# A worker beats every 30 s; one missed beat is a hiccup, two mean it is stuck or dying.
LATE_AFTER_SECONDS = 65


@dataclass
class Report:
    version: str
    code_head: str
    db_revision: str | None
    dialect: str
    database: checks.Probe
    redis: checks.Probe | None  # None: embedded, jobs run inside `nova serve`
    storage_kind: str
    storage_location: str
    storage: checks.Probe
    runs: dict[str, int]
    errors: list[repository.FailedRun]
    now: float = field(default_factory=time.time)
    problems: list[str] = field(default_factory=list)

    @property
    def workers(self) -> list[Heartbeat]:
        return self.redis.detail.get("workers", []) if self.redis and self.redis.ok else []

    def seconds_ago(self, beat: Heartbeat) -> int:
        return max(0, round(self.now - beat.last_seen))


@cache
def code_head() -> str:
    """The newest revision this code ships (read once: it cannot change while running)."""
    return ", ".join(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


async def report(ctx: AppContext) -> Report:
    settings = ctx.settings
    redis_url = settings.redis_url
    database, redis, storage, rows = await asyncio.gather(
        checks.probe("database", lambda: checks.database(ctx.db)),
        checks.probe("redis", lambda: checks.redis(redis_url)) if redis_url else _nothing(),
        checks.probe("storage", lambda: checks.storage(ctx.storage)),
        checks.probe("database rows", lambda: _rows(ctx)),
    )
    found = Report(
        version=__version__,
        code_head=code_head(),
        db_revision=rows.detail.get("revision"),
        dialect=ctx.db.engine.dialect.name,
        database=database,
        redis=redis,
        storage_kind="S3" if settings.s3_bucket else "Local disk",
        storage_location=(
            f"{settings.s3_endpoint_url or 'AWS S3'} · bucket {settings.s3_bucket}"
            if settings.s3_bucket
            else str(settings.data_dir / "files")
        ),
        storage=storage,
        runs=rows.detail.get("runs", {}),
        errors=rows.detail.get("errors", []),
    )
    found.problems = problems(found, rows.ok)
    return found


async def _nothing() -> None:
    return None


async def _rows(ctx: AppContext) -> dict[str, Any]:
    async with ctx.db.transaction() as session:
        return {
            "revision": await repository.current_revision(session),
            "runs": await health_repository.runs_in_progress(session),
            "errors": await repository.last_failed_runs(session),
        }


def problems(found: Report, rows_read: bool) -> list[str]:
    wrong = []
    if not found.database.ok:
        wrong.append("The database is unreachable.")
    elif rows_read and found.db_revision != found.code_head:
        wrong.append(
            f"The database is at migration {found.db_revision or 'none'}, this code expects "
            f"{found.code_head}: run nova migrate."
        )
    elif not rows_read:
        wrong.append("The database answers but Nova's tables could not be read (not migrated?).")
    if found.redis is not None and not found.redis.ok:
        wrong.append("Redis is unreachable: new runs cannot be queued and live replies stop.")
    if not found.storage.ok:
        wrong.append(f"File storage ({found.storage_kind}) is unreachable or not writable.")
    if found.redis is not None and found.redis.ok:
        if not found.workers:
            wrong.append("No worker has reported in the last 90 seconds: queued runs are not executed.")
        for beat in found.workers:
            if found.seconds_ago(beat) > LATE_AFTER_SECONDS:
                wrong.append(f"Worker {beat.name} was last seen {found.seconds_ago(beat)} s ago.")
    return wrong
