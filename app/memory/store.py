"""The memory tools' store: one user's memories over Nova's database."""

from __future__ import annotations

import uuid

from app.agents.tools.context import MemoryNote
from app.db import Database
from app.memory import service as memories


class DatabaseMemory:
    """MemoryStore for one user over Nova's database (a short transaction per call)."""

    def __init__(self, db: Database, owner_id: uuid.UUID) -> None:
        self.db, self.owner_id = db, owner_id

    async def save(self, content: str) -> MemoryNote:
        async with self.db.transaction() as session:
            memory = await memories.save(session, self.owner_id, content)
            return MemoryNote(str(memory.id), memory.content)

    async def search(self, query: str, limit: int) -> list[MemoryNote]:
        async with self.db.transaction() as session:
            return [
                MemoryNote(str(m.id), m.content) for m in await memories.search(session, self.owner_id, query, limit)
            ]

    async def recent(self, limit: int) -> list[MemoryNote]:
        async with self.db.transaction() as session:
            return [MemoryNote(str(m.id), m.content) for m in (await memories.recent(session, self.owner_id))[:limit]]

    async def delete(self, memory_id: str) -> bool:
        try:
            wanted = uuid.UUID(memory_id)
        except ValueError:
            return False
        async with self.db.transaction() as session:
            try:
                await memories.delete(session, self.owner_id, wanted)
            except Exception:  # NotFound, including another user's id: nothing to delete
                return False
            return True
