"""Export a thread (Markdown, JSON) as a download; the Import page and its upload."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import TooLarge, ValidationFailed
from app.transfer import export, reading, service
from app.transfer.document import ThreadDocument
from app.transfer.tree import FIELD, MAX_MESSAGES, MAX_THREADS
from app.transfer.uploads import received_file
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.htmx import redirect
from app.web.templates import render


def _thread_id(request: Request) -> uuid.UUID:
    thread_id: uuid.UUID = request.path_params["thread_id"]
    return thread_id


async def _document(request: Request) -> ThreadDocument:
    async with app_context(request).db.transaction() as session:
        return await service.export_document(session, current_user(request).id, _thread_id(request))


@login_required
async def export_markdown(request: Request) -> Response:
    doc = await _document(request)
    disposition = export.content_disposition(doc.thread.title, "md")
    return Response(export.markdown(doc, current_user(request).timezone), media_type="text/markdown",
                    headers={"Content-Disposition": disposition})  # fmt: skip


@login_required
async def export_json(request: Request) -> Response:
    doc = await _document(request)
    disposition = export.content_disposition(doc.thread.title, "json")
    return Response(doc.model_dump_json(indent=2), media_type="application/json",
                    headers={"Content-Disposition": disposition})  # fmt: skip


def _page_context(request: Request, errors: dict[str, str] | None = None) -> dict[str, Any]:
    limit_mb = app_context(request).settings.import_max_bytes / 1048576
    return {"errors": errors or {}, "limit_mb": f"{limit_mb:.1f}".removesuffix(".0"),
            "max_threads": MAX_THREADS, "max_messages": MAX_MESSAGES}  # fmt: skip


@login_required
async def import_page(request: Request) -> Response:
    return render(request, "transfer/import.html", _page_context(request), fragment="transfer/_import_form.html")


@login_required
async def import_file(request: Request) -> Response:
    """Every conversation of the file as a new thread, or none with the reason; one thread opens."""
    ctx = app_context(request)
    try:
        data = await received_file(request, ctx.settings.import_max_bytes)
        conversations = await asyncio.to_thread(reading.conversations, data)
    except ValidationFailed as exc:
        return _refused(request, exc.errors)
    except TooLarge as exc:
        return _refused(request, {FIELD: str(exc)})
    async with ctx.db.transaction() as session:
        imported = await service.import_conversations(session, current_user(request).id, conversations)
    if len(imported) == 1:
        return redirect(request, str(request.url_for("threads:show", thread_id=imported[0].thread.id)))
    return render(request, "transfer/imported.html", {"imported": imported}, fragment="transfer/_imported.html")


def _refused(request: Request, errors: dict[str, str]) -> Response:
    # 422: htmx swaps it (base.html's responseHandling), and the form shows the reason.
    context = _page_context(request, errors)
    return render(request, "transfer/import.html", context, fragment="transfer/_import_form.html", status_code=422)


routes = [
    Route("/threads/{thread_id:uuid}/export.md", export_markdown, methods=["GET"], name="transfer:export_markdown"),
    Route("/threads/{thread_id:uuid}/export.json", export_json, methods=["GET"], name="transfer:export_json"),
    Route("/threads/import", import_page, methods=["GET"], name="transfer:import_page"),
    Route("/threads/import", import_file, methods=["POST"], name="transfer:import"),
]
