"""`Idempotency-Key`: a retried request gets the first one's result and never starts a second run.

The key is claimed in the transaction that does the work, so the record and what it made
commit together: a retry after a lost response finds the result, a retry of a request
that failed finds nothing and does the work again. Keys are per user and kept a day.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 255
KEEP_FOR = timedelta(hours=24)
OTHER_REQUEST = "This Idempotency-Key was already used with a different request."
IN_PROGRESS = "A request with this Idempotency-Key is still being handled; retry in a moment."


@dataclass(frozen=True)
class Replay:
    """What the first request with this key made."""

    status_code: int
    response: dict[str, Any] | None
    run_id: uuid.UUID | None


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_CHARS or not key.isprintable():
        raise ValidationFailed({HEADER: f"Use 1 to {MAX_KEY_CHARS} printable characters."})
    return key


async def claim_request(
    session: AsyncSession, owner_id: uuid.UUID, key: str | None, method: str, path: str, body: Any
) -> IdempotencyKey | Replay | None:
    """For a request carrying the header (`key`): see `claim`. Without it: None."""
    if key is None:
        return None
    return await claim(session, owner_id, key, fingerprint(method, path, body))


async def claim(session: AsyncSession, owner_id: uuid.UUID, key: str, request_hash: str) -> IdempotencyKey | Replay:
    """A new record for this request to fill in, or the first request's result to replay."""
    query = select(IdempotencyKey).where(IdempotencyKey.owner_id == owner_id, IdempotencyKey.key == check_key(key))
    found = await session.scalar(query)
    if found is not None and found.created_at < utcnow() - KEEP_FOR:
        await session.delete(found)
        await session.flush()
        found = None
    if found is not None:
        if found.request_hash != request_hash:
            raise ValidationFailed({HEADER: OTHER_REQUEST})
        return Replay(found.status_code, found.response, found.run_id)
    record = IdempotencyKey(owner_id=owner_id, key=key, request_hash=request_hash)
    session.add(record)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(IN_PROGRESS) from None  # the same key, committed meanwhile by a concurrent request
    return record


def remember(
    record: IdempotencyKey | None, status_code: int, response: dict[str, Any], run_id: uuid.UUID | None
) -> None:
    if record is not None:
        record.status_code, record.response, record.run_id = status_code, response, run_id
