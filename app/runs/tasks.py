"""Job entry points: thin, keyed by ids, safe to run twice."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from app.context import AppContext
from app.models import RunStatus
from app.runs import service
from app.runs.execution import execute_run

log = logging.getLogger(__name__)


async def run_job(ctx: AppContext, run_id: uuid.UUID) -> None:
    """Execute a run; an unexpected error fails it rather than leaving it running."""
    try:
        await execute_run(ctx, run_id)
    except Exception:
        log.exception("run %s failed unexpectedly", run_id)
        outcome = service.Outcome(RunStatus.FAILED, "", error="Nova hit an internal error running this reply.")
        if await service.finish(ctx, run_id, None, outcome):
            await service.emit_terminal(ctx, run_id)


async def execute(arq_ctx: dict[str, Any], run_id: str) -> None:
    """arq's `runs.execute`."""
    nova: AppContext = arq_ctx["nova"]
    await run_job(nova, uuid.UUID(run_id))


async def expire_runs(ctx: AppContext) -> None:
    """Fail paused runs nobody answered in time, telling any follower."""
    for run_id in await service.expire_paused(ctx):
        await service.emit_terminal(ctx, run_id)


async def expire_paused_runs(arq_ctx: dict[str, Any]) -> None:
    """arq's `runs.expire_paused`, every minute."""
    await expire_runs(arq_ctx["nova"])
