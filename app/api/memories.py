"""/api/v1 memories: the notes agents keep for their user; list and search, add, edit, delete."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.common import SearchQuery, idempotent_create
from app.memory import service as memories
from app.memory.service import MAX_MEMORY_CHARS
from app.models import Memory
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.json import json_body
from app.web.openapi import RequestModel, operation, parse_body, parse_query, respond, validate

TAG = "Memories"


class MemoryOut(BaseModel):
    id: str
    content: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, memory: Memory) -> MemoryOut:
        return cls(id=str(memory.id), content=memory.content, created_at=memory.created_at,
                   updated_at=memory.updated_at)  # fmt: skip


class MemoryList(BaseModel):
    data: list[MemoryOut] = Field(description="Newest first; with `q`, only memories matching a word of it.")
    next_cursor: str | None
    has_more: bool


class MemoryWrite(RequestModel):
    content: str = Field(min_length=1, max_length=MAX_MEMORY_CHARS, description="Whitespace is collapsed.")


@login_required
@operation(summary="List or search your memories", tag=TAG, scope="read", query=SearchQuery,
           responses={200: MemoryList})  # fmt: skip
async def list_memories(request: Request) -> Response:
    query = parse_query(request, SearchQuery)
    async with app_context(request).db.transaction() as session:
        page = await memories.memories_after(session, current_user(request).id, query.cursor, query.limit, query.q)
    data = [MemoryOut.of(m) for m in page.items]
    return respond(MemoryList(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor)))


@login_required
@operation(summary="Add a memory (the same text twice is kept once)", tag=TAG, scope="write", body=MemoryWrite,
           responses={201: MemoryOut}, idempotency_key=True)  # fmt: skip
async def create_memory(request: Request) -> Response:
    raw = await json_body(request)
    body = validate(MemoryWrite, raw)
    user_id = current_user(request).id

    async def create(session: AsyncSession) -> MemoryOut:
        return MemoryOut.of(await memories.save(session, user_id, body.content))

    return await idempotent_create(request, raw, create)


@login_required
@operation(summary="Get a memory", tag=TAG, scope="read", responses={200: MemoryOut})
async def get_memory(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        memory = await memories.get(session, current_user(request).id, request.path_params["memory_id"])
        answer = MemoryOut.of(memory)
    return respond(answer)


@login_required
@operation(summary="Change a memory's text", tag=TAG, scope="write", body=MemoryWrite, responses={200: MemoryOut})
async def update_memory(request: Request) -> Response:
    user_id, memory_id = current_user(request).id, request.path_params["memory_id"]
    async with app_context(request).db.transaction() as session:
        await memories.get(session, user_id, memory_id)
        body = await parse_body(request, MemoryWrite)  # after the lookup: another's id is a 404, never a 422
        answer = MemoryOut.of(await memories.update(session, user_id, memory_id, body.content))
    return respond(answer)


@login_required
@operation(summary="Delete a memory", tag=TAG, scope="write", responses={204: None})
async def delete_memory(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        await memories.delete(session, current_user(request).id, request.path_params["memory_id"])
    return Response(status_code=204)


routes = [
    Route("/api/v1/memories", list_memories, methods=["GET"], name="api:memories"),
    Route("/api/v1/memories", create_memory, methods=["POST"], name="api:create_memory"),
    Route("/api/v1/memories/{memory_id:uuid}", get_memory, methods=["GET"], name="api:memory"),
    Route("/api/v1/memories/{memory_id:uuid}", update_memory, methods=["PATCH"], name="api:update_memory"),
    Route("/api/v1/memories/{memory_id:uuid}", delete_memory, methods=["DELETE"], name="api:delete_memory"),
]
