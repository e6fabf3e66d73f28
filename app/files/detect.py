"""What a file is, decided from its content (magic bytes), never from its name or the browser.

The content picks the family: JPEG, PNG, PDF, DOCX, or UTF-8 text. Within text, which is
inert whatever it is called, HTML is recognised by its markup, JSON by parsing, and the
name's extension tells Markdown, CSV and Python from plain text. A name that promises a
binary type the content is not (HTML called x.png) is refused.
"""

from __future__ import annotations

import codecs
import json
import zipfile
from pathlib import PurePosixPath
from typing import BinaryIO

from app.models.file import KINDS

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT, HTML, MARKDOWN, CSV, PYTHON, JSON = (
    "text/plain", "text/html", "text/markdown", "text/csv", "text/x-python", "application/json",
)  # fmt: skip
ALLOWED = frozenset({JPEG, PNG, PDF, DOCX, TEXT, HTML, MARKDOWN, CSV, PYTHON, JSON})
IMAGES = frozenset({JPEG, PNG})
TEXTUAL = frozenset({TEXT, HTML, MARKDOWN, CSV, PYTHON, JSON})
LABELS = KINDS
# Extensions that promise a binary type: the content must be that type.
PROMISED = {".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".pdf": PDF, ".docx": DOCX}
TEXT_BY_EXTENSION = {".md": MARKDOWN, ".markdown": MARKDOWN, ".csv": CSV, ".py": PYTHON, ".txt": TEXT}
UNSUPPORTED = (
    "This kind of file is not accepted: upload JPEG or PNG images, PDF, Word (DOCX), "
    "or text (plain, Markdown, CSV, Python, JSON, HTML)."
)
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<iframe")
_READ = 64 * 1024


class Refused(Exception):
    """The file's content is not an accepted type; the message says what is."""


def detect(source: BinaryIO, name: str) -> str:
    """The content type of `source` (seekable; named `name` by its uploader), or Refused."""
    source.seek(0)
    head = source.read(8192)
    found = _binary(source, head)
    if found is None and _is_text(source):
        found = _textual(source, head, name)
    if found is None:
        raise Refused(UNSUPPORTED)
    promised = PROMISED.get(PurePosixPath(name.lower()).suffix)
    if promised and promised != found:
        raise Refused(f"The name says {LABELS[promised]} but the content is {LABELS[found]}: not accepted.")
    return found


def _binary(source: BinaryIO, head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04") and _is_docx(source):
        return DOCX
    return None


def _is_docx(source: BinaryIO) -> bool:
    source.seek(0)
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return {"[Content_Types].xml", "word/document.xml"} <= names


def _is_text(source: BinaryIO) -> bool:
    """UTF-8 throughout, without NUL or other control characters (tabs and newlines aside)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    source.seek(0)
    while chunk := source.read(_READ):
        if not _CONTROL.isdisjoint(chunk):
            return False
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _textual(source: BinaryIO, head: bytes, name: str) -> str:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(_HTML_STARTS) or (start.startswith(b"<") and b"<html" in head.lower()):
        return HTML
    suffix = PurePosixPath(name.lower()).suffix
    if suffix == ".json" or start[:1] in (b"{", b"["):
        source.seek(0)
        try:
            json.load(source)
            return JSON
        except (ValueError, RecursionError):
            pass
    if suffix in (".html", ".htm"):
        return HTML
    return TEXT_BY_EXTENSION.get(suffix, TEXT)
