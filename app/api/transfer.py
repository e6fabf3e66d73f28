"""/api/v1 thread export (Nova's JSON document or Markdown) and import (a Nova export or ChatGPT's
conversations.json), as the thread page's Export menu and the Import page do them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.transfer import export, reading, service
from app.transfer.document import ThreadDocument
from app.transfer.tree import MAX_MESSAGES, MAX_THREADS
from app.transfer.uploads import received_file
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.openapi import QueryModel, operation, parse_query, respond

TAG = "Threads"
IMPORT_TEXT = (
    "Send the file as multipart/form-data in the field `file`, or as the JSON body itself: a thread exported "
    "from Nova (`nova.thread`, version 1; a list of them too) or ChatGPT's `conversations.json`. Every "
    "conversation becomes a new thread of yours, with its title, times and branches, or, if anything in the "
    f"file is wrong, none does (422 naming the problem). At most NOVA_IMPORT_MAX_BYTES (413), {MAX_THREADS} "
    f"conversations and {MAX_MESSAGES} messages. Imported replies have no run, no agent and no tool steps."
)
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "The JSON file."}},
                }
            },
            "application/json": {"schema": {"description": "The file's JSON: an object or a list."}},
        },
    }
}


class ExportQuery(QueryModel):
    format: Literal["json", "markdown"] = Field(
        "json", description="`json`: every branch, tool steps and models; `markdown`: the branch shown, readable."
    )


class ImportedThread(BaseModel):
    id: str
    title: str
    messages: int = Field(description="Messages imported into it, on all its branches.")
    created_at: datetime
    updated_at: datetime


class ImportResult(BaseModel):
    data: list[ImportedThread] = Field(description="The new threads, in the file's order.")


@login_required
@operation(summary="Export a thread", tag=TAG, scope="read", query=ExportQuery, responses={200: ThreadDocument},
           binary_status=200,
           description="As an attachment: Nova's JSON document (`nova.thread`, version 1: every message of every "
           "branch with its id and parent, tool steps, models), which POST /api/v1/threads/import reads back, "
           "or Markdown (`text/markdown`) of the branch shown.")  # fmt: skip
async def export_thread(request: Request) -> Response:
    query = parse_query(request, ExportQuery)
    async with app_context(request).db.transaction() as session:
        doc = await service.export_document(session, current_user(request).id, request.path_params["thread_id"])
    if query.format == "markdown":
        disposition = export.content_disposition(doc.thread.title, "md")
        return Response(export.markdown(doc, current_user(request).timezone), media_type="text/markdown",
                        headers={"Content-Disposition": disposition})  # fmt: skip
    return respond(doc, headers={"Content-Disposition": export.content_disposition(doc.thread.title, "json")})


@login_required
@operation(summary="Import threads from a file", tag=TAG, scope="write", responses={201: ImportResult},
           problems=(413, 422), extra=IMPORT_BODY, description=IMPORT_TEXT)  # fmt: skip
async def import_threads(request: Request) -> Response:
    ctx = app_context(request)
    data = await received_file(request, ctx.settings.import_max_bytes)
    conversations = await asyncio.to_thread(reading.conversations, data)
    async with ctx.db.transaction() as session:
        imported = await service.import_conversations(session, current_user(request).id, conversations)
        answer = ImportResult(data=[
            ImportedThread(id=str(i.thread.id), title=i.thread.title, messages=i.messages,
                           created_at=i.thread.created_at, updated_at=i.thread.updated_at)
            for i in imported
        ])  # fmt: skip
    return respond(answer, 201)


routes = [
    Route("/api/v1/threads/{thread_id:uuid}/export", export_thread, methods=["GET"], name="api:export_thread"),
    Route("/api/v1/threads/import", import_threads, methods=["POST"], name="api:import_threads"),
]
