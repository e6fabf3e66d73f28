"""The id of the request being served, for every log line it causes (plumbing, no imports).

Set by the web edge (`web/request_id.py`) from a well-formed `X-Request-ID` or a new one;
a run keeps the id of the request that started it and its job sets it again, so the
worker's lines of that run carry it too (`app.logs` puts it on every log record).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

current: ContextVar[str | None] = ContextVar("request_id", default=None)

# What a client may send: short, and nothing a log line or a header could be split by.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def accept_or_new(sent: str | None) -> str:
    if sent is not None and WELL_FORMED.fullmatch(sent):
        return sent
    return uuid.uuid4().hex
