"""Keyset pagination, newest first: a page ends with a cursor naming its last row.

Offsets skip or repeat rows when rows are added or deleted between two pages; a keyset
(the last row's time and id) does not. The cursor is that pair, base64url-encoded, and
opaque to clients: they only hand it back.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import ValidationFailed

T = TypeVar("T")
CURSOR_FIELD = "cursor"


@dataclass(frozen=True)
class Keyset:
    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Keyset:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            at, _, row_id = raw.partition("|")
            found = cls(datetime.fromisoformat(at), uuid.UUID(row_id))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValidationFailed({CURSOR_FIELD: "Send a cursor exactly as an earlier page gave it."}) from None
        if found.at.tzinfo is None:
            raise ValidationFailed({CURSOR_FIELD: "Send a cursor exactly as an earlier page gave it."})
        return found


def newest_first(
    query: Select[Any], at: InstrumentedAttribute[Any], row_id: InstrumentedAttribute[Any],
    after: Keyset | None, limit: int,
) -> Select[Any]:  # fmt: skip
    """`query` ordered newest first, from just after `after`, one row more than `limit`
    (the extra row says whether another page follows; `page_of` drops it)."""
    if after is not None:
        query = query.where(or_(at < after.at, and_(at == after.at, row_id < after.id)))
    return query.order_by(at.desc(), row_id.desc()).limit(limit + 1)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def page_of(rows: Sequence[T], limit: int, key: Any) -> Page[T]:
    """The first `limit` rows, and a cursor to the next page when there is one.

    `key(row)` is the row's (time, id) as `newest_first` ordered them.
    """
    if len(rows) <= limit:
        return Page(rows, None)
    items = rows[:limit]
    at, row_id = key(items[-1])
    return Page(items, Keyset(at, row_id).encode())
