"""File rules: names as metadata, types from content, size and quota, ownership, attachment.

Services take the session and never commit. Objects are written before the row is
flushed (a failed transaction can leave an object no row names: harmless, never the
reverse), and removed by the edge after the rows' deletion is committed (`remove_objects`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import NotFound, TooLarge, ValidationFailed
from app.files import repository
from app.files.detect import Refused, detect
from app.models import StoredFile, Thread
from app.pagination import Keyset, Page, page_of
from app.settings import Settings
from app.storage import ObjectStorage, object_key

log = logging.getLogger(__name__)

MAX_NAME = 255
MAX_FILES_PER_MESSAGE = 10
_CONTROL = {chr(code) for code in range(32)} | {"\x7f"}


def clean_name(name: str) -> str:
    """The user's file name, kept only as metadata: never a path, never part of a key."""
    if "\x00" in name:
        raise ValidationFailed({"file": "Remove the NUL character from the file name: it cannot be stored."})
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed({"file": "The file name has an invalid character (a lone UTF-16 surrogate)."}) from None
    name = "".join(" " if char in _CONTROL else char for char in name).strip()
    return name[:MAX_NAME] or "file"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


async def store(
    session: AsyncSession, storage: ObjectStorage, settings: Settings, owner_id: uuid.UUID, name: str,
    source: BinaryIO, size: int, *, thread_id: uuid.UUID | None = None, origin: str = "upload",
) -> StoredFile:  # fmt: skip
    """Check and keep a file read from `source` (seekable, on disk or spooled)."""
    name = clean_name(name)
    if size > settings.upload_max_bytes:
        raise TooLarge(f"Files are limited to {megabytes(settings.upload_max_bytes)}; this one is {megabytes(size)}.")
    if size == 0:
        raise ValidationFailed({"file": "The file is empty."})
    used = await repository.used_bytes(session, owner_id)
    if used + size > settings.user_quota_bytes:
        raise TooLarge(
            f"Your files would use more than your {megabytes(settings.user_quota_bytes)}: "
            f"{megabytes(used)} are used. Delete some files first."
        )
    try:
        content_type, digest = await asyncio.to_thread(_inspect, source, name)
    except Refused as exc:
        raise ValidationFailed({"file": str(exc)}) from None
    file = StoredFile(id=uuid.uuid4(), owner_id=owner_id, thread_id=thread_id, name=name,
                      content_type=content_type, size=size, sha256=digest, origin=origin)  # fmt: skip
    file.storage_key = object_key(owner_id, file.id)
    source.seek(0)
    await storage.put(file.storage_key, source, size, content_type)
    session.add(file)
    await session.flush()
    return file


def _inspect(source: BinaryIO, name: str) -> tuple[str, str]:
    """(content type, sha256) of a seekable file; detection reads it from disk, not memory."""
    source.seek(0)
    digest = hashlib.sha256()
    while chunk := source.read(64 * 1024):
        digest.update(chunk)
    source.seek(0)
    return detect(source, name), digest.hexdigest()


async def write_text(session: AsyncSession, storage: ObjectStorage, settings: Settings, owner_id: uuid.UUID,
                     thread_id: uuid.UUID, name: str, content: str) -> StoredFile:  # fmt: skip
    """A file an agent writes into the thread (file_write)."""
    data = content.encode("utf-8")
    with tempfile.TemporaryFile() as spool:
        spool.write(data)
        return await store(session, storage, settings, owner_id, name, spool, len(data),
                           thread_id=thread_id, origin="agent")  # fmt: skip


async def get(session: AsyncSession, owner_id: uuid.UUID, file_id: uuid.UUID) -> StoredFile:
    file = await repository.get(session, owner_id, file_id)
    if file is None:
        raise NotFound(str(file_id))
    return file


async def files_after(session: AsyncSession, owner_id: uuid.UUID, cursor: str | None, limit: int) -> Page[StoredFile]:
    after = Keyset.decode(cursor) if cursor else None
    rows = await repository.files_after(session, owner_id, after, limit)
    return page_of(rows, limit, lambda f: (f.created_at, f.id))


async def for_thread(session: AsyncSession, thread_id: uuid.UUID) -> list[StoredFile]:
    return await repository.for_thread(session, thread_id)


async def for_messages(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[StoredFile]]:
    grouped: dict[uuid.UUID, list[StoredFile]] = {}
    for file in await repository.for_messages(session, message_ids):
        if file.message_id is not None:
            grouped.setdefault(file.message_id, []).append(file)
    return grouped


async def attach(session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID, message_id: uuid.UUID,
                 file_ids: Sequence[uuid.UUID]) -> None:  # fmt: skip
    """The files a message carries: the sender's, not yet sent with another message."""
    wanted = list(dict.fromkeys(file_ids))
    if len(wanted) > MAX_FILES_PER_MESSAGE:
        raise ValidationFailed({"files": f"Send at most {MAX_FILES_PER_MESSAGE} files with one message."})
    for file_id in wanted:
        file = await repository.get(session, owner_id, file_id)
        if file is None:
            raise ValidationFailed({"files": f"No file {file_id}: upload it first."})
        if file.message_id is not None or file.thread_id not in (None, thread_id):
            raise ValidationFailed({"files": f"The file “{file.name}” was already sent with another message."})
    if wanted:
        await repository.attach(session, wanted, thread_id, message_id)


def parse_ids(values: Sequence[str]) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(value) for value in values if value]
    except ValueError:
        raise ValidationFailed({"files": "Send file ids as an upload answered them."}) from None


async def delete(session: AsyncSession, owner_id: uuid.UUID, file_id: uuid.UUID) -> list[str]:
    """Delete the row; the object key, for `remove_objects` after commit."""
    file = await get(session, owner_id, file_id)
    return await repository.delete_where(session, StoredFile.id == file.id)


async def delete_for_thread(session: AsyncSession, thread_id: uuid.UUID) -> list[str]:
    return await repository.delete_where(session, StoredFile.thread_id == thread_id)


async def delete_for_owner(session: AsyncSession, owner_id: uuid.UUID) -> list[str]:
    return await repository.delete_where(session, StoredFile.owner_id == owner_id)


async def delete_expired(session: AsyncSession, settings: Settings) -> list[str]:
    if not settings.file_expiry_days:
        return []
    cutoff = utcnow() - timedelta(days=settings.file_expiry_days)
    return await repository.delete_where(session, repository.older_than(cutoff))


async def remove_objects(storage: ObjectStorage, keys: Sequence[str]) -> None:
    """After the rows' deletion is committed; a failure is logged (the rows are gone already)."""
    if not keys:
        return
    try:
        await storage.delete(keys)
    except Exception:
        log.exception("removing %d stored file(s) failed", len(keys))


async def owned_thread(session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID | None) -> uuid.UUID | None:
    """An upload may go straight into one of the uploader's threads (another's is a 404)."""
    if thread_id is None:
        return None
    thread = await session.get(Thread, thread_id)
    if thread is None or thread.owner_id != owner_id:
        raise NotFound(str(thread_id))
    return thread.id
