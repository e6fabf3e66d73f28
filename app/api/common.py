"""What every /api/v1 resource shares: list queries, timestamps, the idempotent create."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.idempotency import service as idempotency
from app.web.auth import current_user
from app.web.deps import app_context
from app.web.openapi import QueryInt, QueryModel

MAX_PAGE = 200


class ListQuery(QueryModel):
    limit: QueryInt = Field(50, ge=1, le=MAX_PAGE, description="How many items, at most.")
    cursor: str | None = Field(None, max_length=200, description="`next_cursor` of the page before.")


class SearchQuery(ListQuery):
    q: str | None = Field(None, max_length=1000, description="Only items containing this text.")


def id_text(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


async def idempotent_create(
    request: Request, body: dict[str, Any], create: Callable[[AsyncSession], Awaitable[BaseModel]], status: int = 201,
) -> Response:  # fmt: skip
    """Run `create` once per Idempotency-Key: a retry with the same body gets the first answer."""
    ctx, user_id = app_context(request), current_user(request).id
    key = request.headers.get(idempotency.HEADER)
    async with ctx.db.transaction() as session:
        record = await idempotency.claim_request(session, user_id, key, "POST", request.url.path, body)
        if isinstance(record, idempotency.Replay):
            return JSONResponse(record.response, record.status_code)
        payload = (await create(session)).model_dump(mode="json")
        idempotency.remember(record, status, payload, None)
    return JSONResponse(payload, status)
