"""Job entry points: thin, keyed by ids, safe to run twice."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from app.context import AppContext
from app.models import RunStatus
from app.runs import lifecycle
from app.runs.execution import execute_run
from app.runs.service import Outcome

log = logging.getLogger(__name__)

INTERNAL_ERROR_MESSAGE = "Nova hit an internal error running this reply."


async def run_job(ctx: AppContext, run_id: uuid.UUID) -> None:
    """Execute a run; an unexpected error fails it rather than leaving it running."""
    try:
        await execute_run(ctx, run_id)
    except Exception as exc:
        log.exception("run %s failed unexpectedly", run_id)
        outcome = Outcome(RunStatus.FAILED, "", error=INTERNAL_ERROR_MESSAGE, cause=type(exc).__name__)
        await lifecycle.finish(ctx, run_id, None, outcome)


async def execute(arq_ctx: dict[str, Any], run_id: str) -> None:
    """arq's `runs.execute`."""
    nova: AppContext = arq_ctx["nova"]
    await run_job(nova, uuid.UUID(run_id))


async def expire_paused_runs(arq_ctx: dict[str, Any]) -> None:
    """arq's `runs.expire_paused`, every minute."""
    await lifecycle.expire_paused(arq_ctx["nova"])
