"""Files in the browser: upload (from the composer's script), download, delete."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.errors import TooLarge, ValidationFailed
from app.files import service
from app.files.downloads import download
from app.files.uploads import one_upload
from app.models import StoredFile
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.htmx import is_htmx, redirect
from app.web.templates import render


def _file_id(request: Request) -> uuid.UUID:
    file_id: uuid.UUID = request.path_params["file_id"]
    return file_id


def described(request: Request, file: StoredFile) -> dict[str, object]:
    return {"id": str(file.id), "name": file.name, "size": file.size, "content_type": file.content_type,
            "label": file.kind, "size_text": file.size_text,
            "url": str(request.url_for("files:download", file_id=file.id))}  # fmt: skip


@login_required
async def upload(request: Request) -> Response:
    """One file from the composer (XMLHttpRequest, for its progress): JSON either way."""
    ctx, user_id = app_context(request), current_user(request).id
    try:
        async with one_upload(request) as sent, ctx.db.transaction() as session:
            thread_id = await service.owned_thread(session, user_id, sent.thread_id)
            file = await service.store(session, ctx.storage, ctx.settings, user_id, sent.name, sent.source,
                                       sent.size, thread_id=thread_id)  # fmt: skip
            answer = described(request, file)
    except ValidationFailed as exc:
        return JSONResponse({"error": " ".join(exc.errors.values())}, status_code=422)
    except TooLarge as exc:
        return JSONResponse({"error": str(exc)}, status_code=413)
    return JSONResponse(answer, status_code=201)


@login_required
async def download_file(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        file = await service.get(session, current_user(request).id, _file_id(request))
    return download(ctx.storage, file)


@login_required
async def delete_file(request: Request) -> Response:
    """From the thread's Files panel: with htmx the panel re-renders itself."""
    ctx, user_id = app_context(request), current_user(request).id
    async with ctx.db.transaction() as session:
        file = await service.get(session, user_id, _file_id(request))
        thread_id = file.thread_id
        keys = await service.delete(session, user_id, file.id)
        remaining = await service.for_thread(session, thread_id) if thread_id else []
    await service.remove_objects(ctx.storage, keys)
    if thread_id is None:
        return redirect(request, str(request.url_for("threads:list")))
    if is_htmx(request):
        return render(request, "files/_panel.html", {"thread_files": remaining, "thread_id": thread_id})
    return redirect(request, str(request.url_for("threads:show", thread_id=thread_id)))


routes = [
    Route("/files", upload, methods=["POST"], name="files:upload"),
    Route("/files/{file_id:uuid}", download_file, methods=["GET"], name="files:download"),
    Route("/files/{file_id:uuid}/delete", delete_file, methods=["POST"], name="files:delete"),
]
