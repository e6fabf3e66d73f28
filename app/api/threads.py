"""/api/v1 threads and their messages: list and search, create, read, rename, pin, archive, delete."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agent_configs import service as agent_configs
from app.api.common import SearchQuery, id_text, idempotent_create
from app.errors import NotFound, ValidationFailed
from app.files import service as files
from app.models import Message, Thread
from app.threads import service as threads
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.json import json_body
from app.web.openapi import QueryInt, QueryModel, RequestModel, operation, parse_body, parse_query, respond, validate

TAG = "Threads"


class ThreadOut(BaseModel):
    id: str
    title: str
    agent_id: str | None
    created_at: datetime
    updated_at: datetime
    pinned: bool = Field(False, description="Listed first in the sidebar.")
    archived: bool = Field(False, description="Left out of the sidebar (still listed and searched here).")

    @classmethod
    def of(cls, thread: Thread) -> ThreadOut:
        return cls(id=str(thread.id), title=thread.title, agent_id=id_text(thread.agent_id),
                   created_at=thread.created_at, updated_at=thread.updated_at,
                   pinned=thread.pinned, archived=thread.archived)  # fmt: skip


class ThreadList(BaseModel):
    data: list[ThreadOut]
    next_cursor: str | None
    has_more: bool


class ThreadCreate(RequestModel):
    title: str | None = Field(None, max_length=200)
    agent: str | None = Field(None, max_length=100, description="An agent's slug or id; else the default agent.")


class ThreadUpdate(RequestModel):
    title: str | None = Field(None, min_length=1, max_length=200, description="Never replaced by a generated title.")
    pinned: bool | None = Field(None, description="Pin or unpin the thread.")
    archived: bool | None = Field(None, description="Archive (which also unpins) or restore the thread.")


class MessageOut(BaseModel):
    id: str
    role: str
    content: str
    agent_id: str | None
    run_id: str | None
    finish_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        finish = message.finish_reason.value if message.finish_reason else None
        return cls(id=str(message.id), role=message.role.value, content=message.content,
                   agent_id=id_text(message.agent_id), run_id=id_text(message.run_id), finish_reason=finish,
                   created_at=message.created_at)  # fmt: skip


class MessageList(BaseModel):
    data: list[MessageOut] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `before` to get the page of older messages.")
    has_more: bool


class MessagesQuery(QueryModel):
    limit: QueryInt = Field(50, ge=1, le=200)
    before: uuid.UUID | None = Field(None, description="`next_cursor` of the newer page.")


@login_required
@operation(summary="List or search your threads", tag=TAG, scope="read", query=SearchQuery,
           responses={200: ThreadList},
           description="Newest activity first, archived threads too. With `q`, the threads whose title or a "
           "message has every word of it (each may begin a longer word), as the sidebar's search finds them; "
           "a `q` without letters or digits is looked for as plain text.")  # fmt: skip
async def list_threads(request: Request) -> Response:
    query = parse_query(request, SearchQuery)
    async with app_context(request).db.transaction() as session:
        page = await threads.threads_after(session, current_user(request).id, query.cursor, query.limit, query.q)
    data = [ThreadOut.of(t) for t in page.items]
    return respond(ThreadList(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor)))


@login_required
@operation(summary="Start a thread", tag=TAG, scope="write", body=ThreadCreate, responses={201: ThreadOut},
           idempotency_key=True)  # fmt: skip
async def create_thread(request: Request) -> Response:
    raw = await json_body(request)
    body = validate(ThreadCreate, raw)
    ctx, user_id = app_context(request), current_user(request).id

    async def create(session: AsyncSession) -> ThreadOut:
        agent = await agent_configs.find_agent(session, user_id, body.agent, ctx.settings) if body.agent else None
        thread = await threads.create_thread(session, user_id, body.title or threads.NEW_THREAD_TITLE)
        thread.agent_id = agent.id if agent else None
        return ThreadOut.of(thread)

    return await idempotent_create(request, raw, create)


@login_required
@operation(summary="Get a thread", tag=TAG, scope="read", responses={200: ThreadOut})
async def get_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
    return respond(ThreadOut.of(thread))


@login_required
@operation(summary="Rename, pin or archive a thread", tag=TAG, scope="write", body=ThreadUpdate,
           responses={200: ThreadOut})  # fmt: skip
async def update_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
        body = await parse_body(request, ThreadUpdate)  # after the lookup: another's id is a 404, never a 422
        if body.title is not None:
            await threads.rename_thread(session, thread, body.title)
        if body.pinned is not None:
            threads.set_pinned(thread, body.pinned)
        if body.archived is not None:
            threads.set_archived(thread, body.archived)
        await session.flush()
        answer = ThreadOut.of(thread)
    return respond(answer)


@login_required
@operation(summary="Delete a thread with its messages and runs", tag=TAG, scope="write", responses={204: None},
           problems=(409,))  # fmt: skip
async def delete_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
        keys = await threads.delete_thread(session, thread)
    await files.remove_objects(app_context(request).storage, keys)
    return Response(status_code=204)


@login_required
@operation(summary="List a thread's messages, newest page first", tag=TAG, scope="read", query=MessagesQuery,
           responses={200: MessageList})  # fmt: skip
async def list_messages(request: Request) -> Response:
    query = parse_query(request, MessagesQuery)
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
        try:
            page = await threads.message_page(session, thread, query.before, query.limit)
        except NotFound:
            raise ValidationFailed({"before": "No such message in this thread."}) from None
    cursor = str(page.older_than) if page.older_than else None
    data = [MessageOut.of(m) for m in page.messages]
    return respond(MessageList(data=data, next_cursor=cursor, has_more=bool(cursor)))


routes = [
    Route("/api/v1/threads", list_threads, methods=["GET"], name="api:threads"),
    Route("/api/v1/threads", create_thread, methods=["POST"], name="api:create_thread"),
    Route("/api/v1/threads/{thread_id:uuid}", get_thread, methods=["GET"], name="api:thread"),
    Route("/api/v1/threads/{thread_id:uuid}", update_thread, methods=["PATCH"], name="api:update_thread"),
    Route("/api/v1/threads/{thread_id:uuid}", delete_thread, methods=["DELETE"], name="api:delete_thread"),
    Route("/api/v1/threads/{thread_id:uuid}/messages", list_messages, methods=["GET"], name="api:messages"),
]
