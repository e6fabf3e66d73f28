"""Object storage for files: local disk under the data directory, or S3-compatible.

Object keys are made by the server (`object_key`); a user's file name never reaches one.
Reads are streamed in chunks, writes come from a file on disk: no file is whole in memory.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import BinaryIO, Protocol

from app.settings import Settings

CHUNK_BYTES = 64 * 1024
_KEY = re.compile(r"users/[0-9a-f-]{36}/files/[0-9a-f-]{36}")


class ObjectStorage(Protocol):
    async def put(self, key: str, source: BinaryIO, size: int, content_type: str) -> None:
        """Store `size` bytes read from `source` (a file positioned at its start)."""

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes, chunk by chunk."""

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the objects; a missing one is not an error."""

    async def close(self) -> None: ...


def object_key(owner_id: uuid.UUID, file_id: uuid.UUID) -> str:
    return f"users/{owner_id}/files/{file_id}"


def check_key(key: str) -> str:
    """Keys are ours; anything else (a path, a traversal) is a bug, never a file to touch."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a file object key: {key!r}")
    return key


async def read_all(storage: ObjectStorage, key: str, limit: int) -> bytes:
    """Up to `limit` bytes of an object (for text extraction, bounded by the upload limit)."""
    parts: list[bytes] = []
    total = 0
    async for chunk in storage.stream(key):
        parts.append(chunk)
        total += len(chunk)
        if total >= limit:
            break
    return b"".join(parts)[:limit]


def make_storage(settings: Settings) -> ObjectStorage:
    if settings.s3_bucket:
        from app.storage.s3 import S3Storage

        return S3Storage(settings)
    from app.storage.local import LocalStorage

    return LocalStorage(settings.data_dir / "files")
