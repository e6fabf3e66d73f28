"""/api/v1 threads and their messages: list and search, create, read, rename, pin, archive, delete;
edit a message, regenerate a reply, switch version, delete from a message on."""

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
from app.errors import Conflict, NotFound, ThreadBusy, ValidationFailed
from app.files import service as files
from app.models import Message, Thread
from app.runs import control
from app.runs import service as runs
from app.threads import branches
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
    current_message_id: str | None = Field(
        None, description="The last message of the branch shown: the messages listed, and the next run's history."
    )

    @classmethod
    def of(cls, thread: Thread) -> ThreadOut:
        return cls(id=str(thread.id), title=thread.title, agent_id=id_text(thread.agent_id),
                   created_at=thread.created_at, updated_at=thread.updated_at,
                   pinned=thread.pinned, archived=thread.archived,
                   current_message_id=id_text(thread.current_message_id))  # fmt: skip


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
    parent_id: str | None = Field(None, description="The message before it on its branch (none: the first).")
    version: int = Field(1, description="Its place among `version_ids`, from 1.")
    version_ids: list[str] = Field(
        default_factory=list,
        description="It and its other versions (edits of a message, regenerated replies), oldest first; "
        "select one with POST .../messages/{id}/select.",
    )

    @classmethod
    def of(cls, message: Message, versions: list[uuid.UUID] | None = None) -> MessageOut:
        finish = message.finish_reason.value if message.finish_reason else None
        ids = versions or [message.id]
        return cls(id=str(message.id), role=message.role.value, content=message.content,
                   agent_id=id_text(message.agent_id), run_id=id_text(message.run_id), finish_reason=finish,
                   created_at=message.created_at, parent_id=id_text(message.parent_id),
                   version=ids.index(message.id) + 1, version_ids=[str(i) for i in ids])  # fmt: skip


class MessageList(BaseModel):
    data: list[MessageOut] = Field(description="The branch shown, oldest first.")
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
           responses={200: MessageList},
           description="The branch shown (`current_message_id` ends it), with each message's versions.")  # fmt: skip
async def list_messages(request: Request) -> Response:
    query = parse_query(request, MessagesQuery)
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
        try:
            page = await threads.message_page(session, thread, query.before, query.limit)
        except NotFound:
            raise ValidationFailed({"before": "No such message in this thread."}) from None
        versions = await branches.version_ids(session, page.messages)
    cursor = str(page.older_than) if page.older_than else None
    data = [MessageOut.of(m, versions.get(m.id)) for m in page.messages]
    return respond(MessageList(data=data, next_cursor=cursor, has_more=bool(cursor)))


class EditMessage(RequestModel):
    content: str = Field(min_length=1, max_length=100_000, description="The message's new text.")
    agent: str | None = Field(None, max_length=100, description="An agent's slug or id; else the thread's agent.")
    model: str | None = Field(None, max_length=200, description="Another model of the agent's provider.")


class Regenerate(RequestModel):
    agent: str | None = Field(None, max_length=100, description="An agent's slug or id; else the thread's agent.")
    model: str | None = Field(None, max_length=200, description="Another model of the agent's provider.")


class Edited(BaseModel):
    thread_id: str
    message_id: str = Field(description="The new version of the message.")
    run_id: str = Field(description="The run answering it; follow GET /api/v1/runs/{id}/events.")


class Regenerated(BaseModel):
    thread_id: str
    run_id: str = Field(description="The run writing the new reply; follow GET /api/v1/runs/{id}/events.")


def _message_ids(request: Request) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    return current_user(request).id, request.path_params["thread_id"], request.path_params["message_id"]


@login_required
@operation(summary="Edit one of your messages: a new version, answered by a new run", tag=TAG, scope="write",
           body=EditMessage, responses={201: Edited}, problems=(409, 503),
           description="The earlier version stays, with what followed it, as another branch (`version_ids`). "
           "The new one follows the same message and becomes the branch shown; the run's history is that "
           "branch. 409 while a run is writing in the thread.")  # fmt: skip
async def edit_message(request: Request) -> Response:
    ctx, (user_id, thread_id, message_id) = app_context(request), _message_ids(request)
    async with ctx.db.transaction() as session:
        await branches.owned_message(session, user_id, thread_id, message_id)  # 404 before any 422
        body = await parse_body(request, EditMessage)
        try:
            posted = await branches.edit(session, ctx.settings, user_id, thread_id, message_id, body.content,
                                         body.agent, body.model)  # fmt: skip
        except ThreadBusy as exc:
            raise Conflict(runs.api_busy_message(exc.run_id)) from None
        await control.admit_start(ctx, user_id)
    await control.start(ctx, posted.run)
    answer = Edited(thread_id=str(thread_id), message_id=str(posted.message.id), run_id=str(posted.run.id))
    return respond(answer, 201)


@login_required
@operation(summary="Regenerate a reply: a new run answers the same message", tag=TAG, scope="write",
           body=Regenerate, responses={201: Regenerated}, problems=(409, 503),
           description="Given a reply, its new version answers the message before it (the old reply stays, "
           "as another version); given one of your messages, a new reply to it. 409 while a run is writing "
           "in the thread.")  # fmt: skip
async def regenerate_reply(request: Request) -> Response:
    ctx, (user_id, thread_id, message_id) = app_context(request), _message_ids(request)
    async with ctx.db.transaction() as session:
        await branches.owned_message(session, user_id, thread_id, message_id)
        body = await parse_body(request, Regenerate)
        try:
            run = await branches.regenerate(session, ctx.settings, user_id, thread_id, message_id,
                                            body.agent, body.model)  # fmt: skip
        except ThreadBusy as exc:
            raise Conflict(runs.api_busy_message(exc.run_id)) from None
        await control.admit_start(ctx, user_id)
    await control.start(ctx, run)
    return respond(Regenerated(thread_id=str(thread_id), run_id=str(run.id)), 201)


@login_required
@operation(summary="Show another version of a message", tag=TAG, scope="write", responses={200: ThreadOut},
           problems=(409,),
           description="The branch shown becomes the latest one through this message: the messages listed "
           "and the next run's history follow it. 409 while a run is writing in the thread.")  # fmt: skip
async def select_version(request: Request) -> Response:
    user_id, thread_id, message_id = _message_ids(request)
    async with app_context(request).db.transaction() as session:
        try:
            thread = await branches.select(session, user_id, thread_id, message_id)
        except ThreadBusy as exc:
            raise Conflict(runs.api_busy_message(exc.run_id)) from None
        answer = ThreadOut.of(thread)
    return respond(answer)


@login_required
@operation(summary="Delete a message and everything after it", tag=TAG, scope="write", responses={204: None},
           problems=(409,),
           description="Only what follows it on its own branches; its other versions stay. If it was shown, "
           "the thread shows a neighbouring version instead, else the message before it. 409 while a run "
           "is writing in the thread.")  # fmt: skip
async def delete_message(request: Request) -> Response:
    user_id, thread_id, message_id = _message_ids(request)
    async with app_context(request).db.transaction() as session:
        try:
            await branches.delete_from(session, user_id, thread_id, message_id)
        except ThreadBusy as exc:
            raise Conflict(runs.api_busy_message(exc.run_id)) from None
    return Response(status_code=204)


_MESSAGE = "/api/v1/threads/{thread_id:uuid}/messages/{message_id:uuid}"

routes = [
    Route("/api/v1/threads", list_threads, methods=["GET"], name="api:threads"),
    Route("/api/v1/threads", create_thread, methods=["POST"], name="api:create_thread"),
    Route("/api/v1/threads/{thread_id:uuid}", get_thread, methods=["GET"], name="api:thread"),
    Route("/api/v1/threads/{thread_id:uuid}", update_thread, methods=["PATCH"], name="api:update_thread"),
    Route("/api/v1/threads/{thread_id:uuid}", delete_thread, methods=["DELETE"], name="api:delete_thread"),
    Route("/api/v1/threads/{thread_id:uuid}/messages", list_messages, methods=["GET"], name="api:messages"),
    Route(f"{_MESSAGE}/edit", edit_message, methods=["POST"], name="api:edit_message"),
    Route(f"{_MESSAGE}/regenerate", regenerate_reply, methods=["POST"], name="api:regenerate"),
    Route(f"{_MESSAGE}/select", select_version, methods=["POST"], name="api:select_version"),
    Route(_MESSAGE, delete_message, methods=["DELETE"], name="api:delete_message"),
]
