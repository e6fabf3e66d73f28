"""The text a model reads from a file: text as it is, PDF and DOCX text extracted."""

from __future__ import annotations

import io
import zipfile
from typing import IO
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from app.files.detect import DOCX, PDF, TEXTUAL

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A DOCX's document.xml larger than this is not read (a zip bomb stays a zip).
MAX_DOCX_XML = 50 * 1024 * 1024


class Unreadable(Exception):
    """No text could be read from the file; the message says why."""


def has_text(content_type: str) -> bool:
    return content_type in TEXTUAL or content_type in (PDF, DOCX)


def text_of(data: bytes, content_type: str, limit: int) -> str:
    """Up to about `limit` characters of the file's text (CPU-bound: call it in a thread)."""
    if content_type == PDF:
        return _pdf_text(data, limit)
    if content_type == DOCX:
        return _docx_text(data, limit)
    if content_type in TEXTUAL:
        return data.decode("utf-8-sig", errors="replace")
    raise Unreadable("This file has no text to read.")


def _pdf_text(data: bytes, limit: int) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    pages: list[str] = []
    total = 0
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Unreadable("This PDF is encrypted.")
        for page in reader.pages:
            text = page.extract_text() or ""
            pages.append(text)
            total += len(text)
            if total > limit:
                break
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise Unreadable(f"The PDF could not be read ({type(exc).__name__}).") from None
    return "\n\n".join(pages)


def _docx_text(data: bytes, limit: int) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML:
                raise Unreadable("This document is too large to read.")
            with archive.open(info) as xml:
                return _paragraphs(xml, limit)
    except (zipfile.BadZipFile, KeyError, ParseError, DefusedXmlException) as exc:
        raise Unreadable(f"The document could not be read ({type(exc).__name__}).") from None


def _paragraphs(xml: IO[bytes], limit: int) -> str:
    paragraphs: list[str] = []
    current: list[str] = []
    total = 0
    for _event, element in iterparse(xml, events=("end",), forbid_dtd=True):
        tag = element.tag
        if tag == _W + "t":
            current.append(element.text or "")
        elif tag == _W + "tab":
            current.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            current.append("\n")
        elif tag == _W + "p":
            paragraphs.append("".join(current))
            total += len(paragraphs[-1])
            current = []
            element.clear()
            if total > limit:
                break
    return "\n".join(paragraphs)
