"""The file tools' store: one thread's files for one user, over Nova's database and storage."""

from __future__ import annotations

import asyncio
import uuid

from app.agents.tools.context import FileNote, ToolFailure
from app.db import Database
from app.errors import NotFound, TooLarge, ValidationFailed
from app.files import service
from app.files.extract import Unreadable, text_of
from app.models import StoredFile
from app.settings import Settings
from app.storage import ObjectStorage, read_all


async def read_text(storage: ObjectStorage, file: StoredFile, limit: int) -> str:
    """At least `limit` characters of the file's text when it has them (extraction in a thread)."""
    data = await read_all(storage, file.storage_key, file.size)
    return await asyncio.to_thread(text_of, data, file.content_type, limit)


def note(file: StoredFile) -> FileNote:
    return FileNote(str(file.id), file.name, file.content_type, file.size, file.origin)


class ThreadFiles:
    """FileStore for a run: the files of its thread only (a short transaction per call)."""

    def __init__(self, db: Database, storage: ObjectStorage, settings: Settings, owner_id: uuid.UUID,
                 thread_id: uuid.UUID) -> None:  # fmt: skip
        self.db, self.storage, self.settings = db, storage, settings
        self.owner_id, self.thread_id = owner_id, thread_id

    async def list(self) -> list[FileNote]:
        async with self.db.transaction() as session:
            return [note(f) for f in await service.for_thread(session, self.thread_id)]

    async def read(self, file_id: str, offset: int, limit: int) -> tuple[FileNote, str, int]:
        """(the file, its text from `offset`, its whole text's length as far as read)."""
        async with self.db.transaction() as session:
            file = await self._get(session, file_id)
        try:
            text = await read_text(self.storage, file, offset + limit + 1)
        except Unreadable as exc:
            raise ToolFailure(str(exc)) from None
        return note(file), text[offset : offset + limit], len(text)

    async def write(self, name: str, content: str) -> FileNote:
        try:
            async with self.db.transaction() as session:
                file = await service.write_text(session, self.storage, self.settings, self.owner_id,
                                                self.thread_id, name, content)  # fmt: skip
                return note(file)
        except ValidationFailed as exc:
            raise ToolFailure(" ".join(exc.errors.values())) from None
        except TooLarge as exc:
            raise ToolFailure(str(exc)) from None

    async def _get(self, session: object, file_id: str) -> StoredFile:
        try:
            wanted = uuid.UUID(file_id.strip())
            file = await service.get(session, self.owner_id, wanted)  # type: ignore[arg-type]
        except (ValueError, NotFound):
            raise ToolFailure(f"No file {file_id} in this thread: file_list shows them.") from None
        if file.thread_id != self.thread_id:
            raise ToolFailure(f"No file {file_id} in this thread: file_list shows them.")
        return file
