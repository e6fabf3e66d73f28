"""The Memory page: browse, search, edit and delete what agents stored."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import ValidationFailed
from app.memory import service
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.params import query_text
from app.web.templates import render


def _memory_id(request: Request) -> uuid.UUID:
    memory_id: uuid.UUID = request.path_params["memory_id"]
    return memory_id


@login_required
async def memory_page(request: Request) -> Response:
    query = query_text(request, "q")
    async with app_context(request).db.transaction() as session:
        user_id = current_user(request).id
        memories = await (service.search(session, user_id, query, 50) if query else service.recent(session, user_id))
    return render(
        request,
        "memory/page.html",
        {"memories": memories, "query": query, "form": {}, "errors": {}},
    )


@login_required
async def edit_memory(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        memory = await service.get(session, current_user(request).id, _memory_id(request))
    form = {"content": memory.content}
    return render(request, "memory/edit.html", {"memory": memory, "form": form, "errors": {}})


@login_required
async def update_memory(request: Request) -> Response:
    form = await read_form(request)
    try:
        async with app_context(request).db.transaction() as session:
            memory = await service.update(session, current_user(request).id, _memory_id(request),
                                          form.get("content", ""))  # fmt: skip
    except ValidationFailed as exc:
        async with app_context(request).db.transaction() as session:
            memory = await service.get(session, current_user(request).id, _memory_id(request))
        context = {"memory": memory, "form": form, "errors": exc.errors}
        return render(request, "memory/edit.html", context, status_code=400)
    return redirect(request, str(request.url_for("memory:list")))


@login_required
async def delete_memory(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        await service.delete(session, current_user(request).id, _memory_id(request))
    return redirect(request, str(request.url_for("memory:list")))


routes = [
    Route("/memory", memory_page, methods=["GET"], name="memory:list"),
    Route("/memory/{memory_id:uuid}/edit", edit_memory, methods=["GET"], name="memory:edit"),
    Route("/memory/{memory_id:uuid}", update_memory, methods=["POST"], name="memory:update"),
    Route("/memory/{memory_id:uuid}/delete", delete_memory, methods=["POST"], name="memory:delete"),
]
