"""/api/v1 files: upload (multipart), list, metadata, download, delete."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.common import ListQuery, id_text
from app.files import service as files
from app.files.detect import ALLOWED
from app.files.downloads import download
from app.files.uploads import one_upload
from app.models import StoredFile
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.openapi import operation, parse_query, respond

TAG = "Files"
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The file; its type is decided from its content.",
                        },
                        "thread_id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "Put the file in this thread (its Files panel, its agents' tools).",
                        },
                    },
                }
            }
        },
    }
}

UPLOAD_TEXT = (
    "JPEG, PNG, PDF, DOCX or text (plain, Markdown, CSV, Python, JSON, HTML), decided from the content; at most "
    "NOVA_UPLOAD_MAX_BYTES, within your quota. Send its id in `files` with a message."
)


class FileOut(BaseModel):
    id: str
    name: str = Field(description="The uploader's file name, as metadata only.")
    content_type: str = Field(description="Decided from the content: one of " + ", ".join(sorted(ALLOWED)) + ".")
    size: int
    sha256: str
    origin: str = Field(description="`upload`, or `agent` for a file an agent wrote.")
    thread_id: str | None
    message_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, file: StoredFile) -> FileOut:
        return cls(id=str(file.id), name=file.name, content_type=file.content_type, size=file.size,
                   sha256=file.sha256, origin=file.origin, thread_id=id_text(file.thread_id),
                   message_id=id_text(file.message_id), created_at=file.created_at)  # fmt: skip


class FileList(BaseModel):
    data: list[FileOut] = Field(description="Newest first.")
    next_cursor: str | None
    has_more: bool


@login_required
@operation(summary="List your files", tag=TAG, scope="read", query=ListQuery, responses={200: FileList})
async def list_files(request: Request) -> Response:
    query = parse_query(request, ListQuery)
    async with app_context(request).db.transaction() as session:
        page = await files.files_after(session, current_user(request).id, query.cursor, query.limit)
    data = [FileOut.of(f) for f in page.items]
    return respond(FileList(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor)))


@login_required
@operation(summary="Upload a file (multipart/form-data)", tag=TAG, scope="write", responses={201: FileOut},
           problems=(413, 422), extra=UPLOAD_BODY, description=UPLOAD_TEXT)  # fmt: skip
async def upload_file(request: Request) -> Response:
    ctx, user_id = app_context(request), current_user(request).id
    async with one_upload(request) as sent, ctx.db.transaction() as session:
        thread_id = await files.owned_thread(session, user_id, sent.thread_id)
        file = await files.store(session, ctx.storage, ctx.settings, user_id, sent.name, sent.source, sent.size,
                                 thread_id=thread_id)  # fmt: skip
        answer = FileOut.of(file)
    return respond(answer, 201)


@login_required
@operation(summary="Get a file's metadata", tag=TAG, scope="read", responses={200: FileOut})
async def get_file(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        answer = FileOut.of(await files.get(session, current_user(request).id, request.path_params["file_id"]))
    return respond(answer)


@login_required
@operation(
    summary="Download a file (as an attachment)", tag=TAG, scope="read", responses={200: None}, binary_status=200
)
async def file_content(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        file = await files.get(session, current_user(request).id, request.path_params["file_id"])
    return download(ctx.storage, file)


@login_required
@operation(summary="Delete a file (and its stored bytes)", tag=TAG, scope="write", responses={204: None})
async def delete_file(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        keys = await files.delete(session, current_user(request).id, request.path_params["file_id"])
    await files.remove_objects(ctx.storage, keys)
    return Response(status_code=204)


routes = [
    Route("/api/v1/files", list_files, methods=["GET"], name="api:files"),
    Route("/api/v1/files", upload_file, methods=["POST"], name="api:upload_file"),
    Route("/api/v1/files/{file_id:uuid}", get_file, methods=["GET"], name="api:file"),
    Route("/api/v1/files/{file_id:uuid}/content", file_content, methods=["GET"], name="api:file_content"),
    Route("/api/v1/files/{file_id:uuid}", delete_file, methods=["DELETE"], name="api:delete_file"),
]
