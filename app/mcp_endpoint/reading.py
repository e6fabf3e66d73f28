"""`list_threads` and `read_thread`: the caller's threads, as the API lists them (a read token suffices)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastmcp import FastMCP
from fastmcp.server.dependencies import get_http_request
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from app.context import AppContext
from app.errors import NotFound, ValidationFailed
from app.mcp_endpoint.auth import caller, refused
from app.models import Message, Thread
from app.threads import service as threads
from app.web.params import MAX_QUERY_TEXT, text_problem

READING = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


class ThreadSummary(BaseModel):
    id: str
    title: str
    updated_at: str = Field(description="Its last activity (ISO 8601, UTC).")
    url: str = Field(description="The thread in Nova.")


class ThreadList(BaseModel):
    threads: list[ThreadSummary] = Field(description="Newest activity first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; none: this was the last.")


class MessageSummary(BaseModel):
    id: str
    role: str = Field(description="user or assistant")
    content: str
    created_at: str
    finish_reason: str | None = Field(description="How a reply ended: stop, cancelled, error, …")


class ThreadMessages(BaseModel):
    thread: ThreadSummary
    messages: list[MessageSummary] = Field(description="Oldest first: the newest page, or the page before `before`.")
    older_than: str | None = Field(description="Pass as `before` for the page of older messages; none: no more.")


def register(server: FastMCP, ctx: AppContext) -> None:
    @server.tool(annotations=READING)
    async def list_threads(
        cursor: Annotated[str | None, Field(description="`next_cursor` from the page before.")] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        query: Annotated[str | None, Field(description="Only threads with these words.")] = None,
    ) -> ThreadList:
        """List your Nova threads, newest activity first (or search them with `query`)."""
        user = caller()
        if query and (problem := text_problem(query, MAX_QUERY_TEXT)):
            raise refused(f"query: {problem}")
        try:
            async with ctx.db.transaction() as session:
                page = await threads.threads_after(session, user.user_id, cursor, limit, query)
        except ValidationFailed as exc:
            raise refused(" ".join(exc.errors.values())) from None
        return ThreadList(threads=[_summary(thread) for thread in page.items], next_cursor=page.next_cursor)

    @server.tool(annotations=READING)
    async def read_thread(
        thread_id: Annotated[str, Field(description="A thread's id (list_threads, or an agent's answer).")],
        before: Annotated[str | None, Field(description="`older_than` from a later page.")] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
    ) -> ThreadMessages:
        """Read the messages of one of your Nova threads (the branch shown in Nova), newest page first."""
        user = caller()
        not_found = refused(f"Thread {thread_id} not found.")  # another user's too
        async with ctx.db.transaction() as session:
            try:
                thread = await threads.get_thread(session, user.user_id, _id(thread_id))
            except (NotFound, ValueError):
                raise not_found from None
            try:
                page = await threads.message_page(session, thread, _id(before) if before else None, limit)
            except (NotFound, ValueError):
                raise refused(f"No message {before} in thread {thread_id}.") from None
        older = str(page.older_than) if page.older_than else None
        return ThreadMessages(thread=_summary(thread), messages=[_message(m) for m in page.messages], older_than=older)


def _id(text: str) -> uuid.UUID:
    return uuid.UUID(text.strip())


def _summary(thread: Thread) -> ThreadSummary:
    url = str(get_http_request().url_for("threads:show", thread_id=thread.id))
    return ThreadSummary(id=str(thread.id), title=thread.title, updated_at=thread.updated_at.isoformat(), url=url)


def _message(message: Message) -> MessageSummary:
    finish = message.finish_reason.value if message.finish_reason else None
    return MessageSummary(id=str(message.id), role=message.role.value, content=message.content,
                          created_at=message.created_at.isoformat(), finish_reason=finish)  # fmt: skip
