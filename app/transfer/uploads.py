"""The file to import, from a request: a multipart form's `file` (Starlette spools it to a
temporary file past 1 MiB) or, for the API, the JSON body itself; never more than the limit.

BodySizeLimitMiddleware already stops a body past NOVA_IMPORT_MAX_BYTES (plus the form
around it); the exact limit is checked here, on the file alone.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request

from app.errors import TooLarge, ValidationFailed
from app.transfer.tree import FIELD

MAX_FIELD_BYTES = 4096  # the text fields beside the file: a CSRF token
SEND_A_FILE = "Choose a file to import: a Nova JSON export or ChatGPT's conversations.json."


def too_large(max_bytes: int) -> TooLarge:
    size = f"{max_bytes / 1048576:.1f} MB" if max_bytes >= 1048576 else f"{max_bytes // 1024} KB"
    return TooLarge(f"Imports are limited to {size.replace('.0 MB', ' MB')}.")


async def received_file(request: Request, max_bytes: int) -> bytes:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _form_file(request, max_bytes)
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > max_bytes:
            raise too_large(max_bytes)
    return bytes(received)


async def _form_file(request: Request, max_bytes: int) -> bytes:
    try:
        form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_FIELD_BYTES)
    except Exception as exc:  # MultiPartException and friends: a malformed or oversized form
        raise ValidationFailed({FIELD: str(getattr(exc, "detail", None) or SEND_A_FILE)}) from None
    try:
        part = form.get(FIELD)
        if not isinstance(part, UploadFile) or (not part.filename and not part.size):
            raise ValidationFailed({FIELD: SEND_A_FILE})
        if part.size is not None and part.size > max_bytes:
            raise too_large(max_bytes)
        return await part.read(max_bytes + 1)
    finally:
        await form.close()
