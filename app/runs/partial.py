"""An embedded run's text so far, saved about every second (`runs.partial_text`).

The embedded event log lives in memory: if `nova serve` stops mid-reply, this save is the
only copy of what the reader already saw, and the next start keeps it as an interrupted
reply (`service.fail_interrupted`). With Redis the log outlives a process and another
worker takes the run over, so nothing is saved there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from app.context import AppContext
from app.runs import lifecycle
from app.runs.plan import RunPlan

SAVE_EVERY_SECONDS = 1.0

log = logging.getLogger(__name__)


async def keep_saving(ctx: AppContext, plan: RunPlan, text: Callable[[], str]) -> None:
    """Until cancelled, save `text()` whenever it changed since the last save."""
    saved: str | None = None
    while True:
        await asyncio.sleep(SAVE_EVERY_SECONDS)
        current = text()
        if current == saved:
            continue
        try:
            await lifecycle.save_partial_text(ctx, plan, current)
            saved = current
        except Exception as exc:  # a busy database: the reply goes on, the next tick saves
            log.warning("run %s: cannot save the text so far (%s)", plan.run_id, type(exc).__name__)
