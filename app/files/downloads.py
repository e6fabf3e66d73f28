"""A stored file as a download: streamed, an attachment, inert in Nova's origin."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import StreamingResponse

from app.files.detect import TEXTUAL
from app.models import StoredFile
from app.storage import ObjectStorage

# Even if a browser ignored the attachment, the file could run nothing and reach nothing.
FILE_CSP = "sandbox; default-src 'none'"


def content_disposition(name: str) -> str:
    """attachment, with an ASCII fallback name and the real one in RFC 5987 form."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\/;' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(storage: ObjectStorage, file: StoredFile) -> StreamingResponse:
    media_type = f"{file.content_type}; charset=utf-8" if file.content_type in TEXTUAL else file.content_type
    headers = {
        "content-disposition": content_disposition(file.name),
        "content-length": str(file.size),
        "content-security-policy": FILE_CSP,
        "x-content-type-options": "nosniff",
        "cache-control": "private, no-cache",
    }
    return StreamingResponse(storage.stream(file.storage_key), media_type=media_type, headers=headers)
