"""The run's ledger of side effects: what a side-effecting tool call returned, by call id."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.models import ToolEffect


class DatabaseEffects:
    """EffectLedger over Nova's database (a short transaction per call)."""

    def __init__(self, db: Database, run_id: uuid.UUID) -> None:
        self.db, self.run_id = db, run_id

    async def done(self, call_id: str) -> str | None:
        async with self.db.transaction() as session:
            effect = await session.get(ToolEffect, (self.run_id, call_id[:128]))
            return effect.output if effect is not None else None

    async def record(self, call_id: str, tool: str, output: str) -> None:
        try:
            async with self.db.transaction() as session:
                session.add(ToolEffect(run_id=self.run_id, call_id=call_id[:128], tool=tool[:100], output=output))
        except IntegrityError:
            pass  # recorded by an attempt that raced this one: the first output stands
