"""Thread pages' branch actions: edit a message, regenerate a reply, switch version, delete from here.

Each answers a plain form with a redirect to the thread, and htmx with the conversation it
now shows (threads/_conversation.html, swapped into #messages); refusals (a reply still
being written, an empty edit) are toasts, as everywhere on the thread page.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.runs import control
from app.threads import branches, service
from app.threads.page import thread_context
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import is_htmx, redirect
from app.web.templates import render


def _ids(request: Request) -> tuple[uuid.UUID, uuid.UUID]:
    thread_id: uuid.UUID = request.path_params["thread_id"]
    message_id: uuid.UUID = request.path_params["message_id"]
    return thread_id, message_id


async def _conversation(request: Request, thread_id: uuid.UUID) -> Response:
    """The thread (plain forms: after a redirect), or for htmx the conversation it now shows."""
    if not is_htmx(request):
        return redirect(request, str(request.url_for("threads:show", thread_id=thread_id)))
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, thread_id)
        context = await thread_context(session, request, thread)
    return render(request, "threads/_conversation.html", context)


@login_required
async def select_version(request: Request) -> Response:
    """Show the version `message_id` of a message (and the latest branch that goes on from it)."""
    thread_id, message_id = _ids(request)
    async with app_context(request).db.transaction() as session:
        await branches.select(session, current_user(request).id, thread_id, message_id)
    return await _conversation(request, thread_id)


@login_required
async def edit_form(request: Request) -> Response:
    """The form for a new version of the user's message: inline for htmx, else a page (which,
    for a reply, says to regenerate it instead)."""
    thread_id, message_id = _ids(request)
    async with app_context(request).db.transaction() as session:
        thread, message = await branches.owned_message(session, current_user(request).id, thread_id, message_id)
    context = {"thread": thread, "message": message, "refused": branches.EDIT_REFUSED}
    return render(request, "threads/edit_message.html", context, fragment="threads/_edit_form.html")


@login_required
async def edit_message(request: Request) -> Response:
    """A new version of the user's message, answered by a new run; the old one stays."""
    form = await read_form(request)
    ctx, user_id = app_context(request), current_user(request).id
    thread_id, message_id = _ids(request)
    async with ctx.db.transaction() as session:
        posted = await branches.edit(session, ctx.settings, user_id, thread_id, message_id, form.get("content", ""))
        await control.admit_start(ctx, user_id)  # counted only for a run that starts
    await control.start(ctx, posted.run)
    return await _conversation(request, thread_id)


@login_required
async def regenerate(request: Request) -> Response:
    """A new reply to what `message_id` answered; the old reply stays as a version."""
    ctx, user_id = app_context(request), current_user(request).id
    thread_id, message_id = _ids(request)
    async with ctx.db.transaction() as session:
        run = await branches.regenerate(session, ctx.settings, user_id, thread_id, message_id)
        await control.admit_start(ctx, user_id)
    await control.start(ctx, run)
    return await _conversation(request, thread_id)


@login_required
async def confirm_delete_message(request: Request) -> Response:
    thread_id, message_id = _ids(request)
    async with app_context(request).db.transaction() as session:
        thread, message = await branches.owned_message(session, current_user(request).id, thread_id, message_id)
        has_versions = bool(await branches.versions_of(session, [message]))
    context = {"thread": thread, "message": message, "has_versions": has_versions}
    return render(request, "threads/confirm_delete_message.html", context)


@login_required
async def delete_message(request: Request) -> Response:
    thread_id, message_id = _ids(request)
    async with app_context(request).db.transaction() as session:
        await branches.delete_from(session, current_user(request).id, thread_id, message_id)
    return await _conversation(request, thread_id)


_MESSAGE = "/threads/{thread_id:uuid}/messages/{message_id:uuid}"

routes = [
    Route(f"{_MESSAGE}/select", select_version, methods=["POST"], name="threads:select_version"),
    Route(f"{_MESSAGE}/edit", edit_form, methods=["GET"], name="threads:edit_form"),
    Route(f"{_MESSAGE}/edit", edit_message, methods=["POST"], name="threads:edit_message"),
    Route(f"{_MESSAGE}/regenerate", regenerate, methods=["POST"], name="threads:regenerate"),
    Route(f"{_MESSAGE}/delete", confirm_delete_message, methods=["GET"], name="threads:confirm_delete_message"),
    Route(f"{_MESSAGE}/delete", delete_message, methods=["POST"], name="threads:delete_message"),
]
