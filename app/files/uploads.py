"""Reading one uploaded file from a multipart request: spooled to disk past 1 MiB, never whole in memory.

The request body as a whole is bounded by BodySizeLimitMiddleware (the upload limit plus
room for the form around the file); the file's own limit is checked by the service.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import BinaryIO

from starlette.datastructures import UploadFile
from starlette.requests import Request

from app.errors import ValidationFailed

FIELD = "file"
# Text fields beside the file (a CSRF token, a thread id) are small.
MAX_FIELD_BYTES = 4096


@dataclass(frozen=True)
class Upload:
    name: str
    source: BinaryIO
    size: int
    thread_id: uuid.UUID | None


@asynccontextmanager
async def one_upload(request: Request) -> AsyncIterator[Upload]:
    try:
        form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_FIELD_BYTES)
    except Exception as exc:  # MultiPartException and friends: a malformed or oversized form
        detail = getattr(exc, "detail", None) or "Send one file as multipart/form-data, in the field “file”."
        raise ValidationFailed({FIELD: str(detail)}) from None
    try:
        part = form.get(FIELD)
        if not isinstance(part, UploadFile):
            raise ValidationFailed({FIELD: "Send one file as multipart/form-data, in the field “file”."})
        thread_id = _thread_id(form.get("thread_id"))
        size = part.size if part.size is not None else _measure(part.file)
        yield Upload(part.filename or "file", part.file, size, thread_id)
    finally:
        await form.close()


def _measure(source: BinaryIO) -> int:
    source.seek(0, 2)
    size = source.tell()
    source.seek(0)
    return size


def _thread_id(value: object) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed({"thread_id": "Send a thread id as Nova gave it."}) from None
