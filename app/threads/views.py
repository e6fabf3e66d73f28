"""Thread pages: sidebar list, thread view, rename, delete, posting messages."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.agent_configs import service as agent_configs
from app.errors import Conflict, NotFound, RateLimited, ValidationFailed
from app.models import Thread
from app.providers import service as providers
from app.runs import control, stats, titles
from app.runs import service as runs
from app.runs.display import live_template, run_view
from app.threads import service
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import is_htmx, redirect
from app.web.params import page_number, query_id
from app.web.templates import render


def _thread_id(request: Request) -> uuid.UUID:
    thread_id: uuid.UUID = request.path_params["thread_id"]
    return thread_id


def _page(request: Request) -> int:
    return page_number(request)


async def _thread_context(
    session: AsyncSession, request: Request, thread: Thread | None, *, with_messages: bool = True
) -> dict[str, Any]:
    """What the thread page needs: sidebar, messages, composer (fragments may skip the messages)."""
    ctx, user_id = app_context(request), current_user(request).id
    agents = await agent_configs.agents_for_chat(session, user_id, ctx.settings)
    selected = thread.agent_id if thread and thread.agent_id else None
    if selected is None and agents:
        selected = next((a.id for a in agents if a.is_default), agents[0].id)
    active = await runs.active_run(session, thread.id) if thread else None
    page = await service.message_page(session, thread) if thread and with_messages else service.MessagePage([], None)
    return {
        "sidebar": await service.list_threads(session, user_id, _page(request)),
        "thread": thread,
        **await _messages_context(session, page),
        "run_view": await run_view(request, ctx, active) if active else None,
        "agents": agents,
        "agents_by_id": {agent.id: agent for agent in agents},
        "model_providers": await providers.list_usable(session, user_id),
        "selected_agent_id": selected,
        "form": {},
        "errors": {},
    }


async def _messages_context(session: AsyncSession, page: service.MessagePage) -> dict[str, Any]:
    """A page of messages as the templates show it: the messages, the older ones' cursor, the reply stats."""
    return {
        "messages": page.messages,
        "older_than": page.older_than,
        "reply_stats": await stats.for_runs(session, [m.run_id for m in page.messages if m.run_id]),
    }


async def home(request: Request) -> Response:
    return RedirectResponse(request.url_for("threads:list"), status_code=303)


@login_required
async def list_threads(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        context = await _thread_context(session, request, None)
    return render(request, "threads/page.html", context, fragment="threads/_sidebar_page.html")


@login_required
async def create_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await service.create_thread(session, current_user(request).id)
    return redirect(request, str(request.url_for("threads:show", thread_id=thread.id)))


@login_required
async def show_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        context = await _thread_context(session, request, thread)
    return render(request, "threads/page.html", context)


@login_required
async def older_messages(request: Request) -> Response:
    """The page of messages before `?before=<message id>` (loaded as the reader scrolls up), else the newest."""
    before = query_id(request, "before")
    ctx, user_id = app_context(request), current_user(request).id
    async with ctx.db.transaction() as session:
        thread = await service.get_thread(session, user_id, _thread_id(request))
        agents = await agent_configs.agents_for_chat(session, user_id, ctx.settings)
        context = {
            "thread": thread,
            "agents_by_id": {agent.id: agent for agent in agents},
            **await _messages_context(session, await service.message_page(session, thread, before)),
        }
    return render(request, "threads/_older.html", context)


@login_required
async def rename_thread(request: Request) -> Response:
    form = await read_form(request)
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        try:
            await service.rename_thread(session, thread, form.get("title", ""))
        except ValidationFailed as exc:
            context = await _thread_context(session, request, thread)
            context.update(errors=exc.errors, form=form)
            return render(
                request,
                "threads/page.html",
                context,
                fragment="threads/_title.html",
                status_code=400,
            )
        context = await _thread_context(session, request, thread)
    if is_htmx(request):
        return render(request, "threads/_renamed.html", context)
    return redirect(request, str(request.url_for("threads:show", thread_id=thread.id)))


@login_required
async def confirm_delete(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
    return render(request, "threads/confirm_delete.html", {"thread": thread})


@login_required
async def delete_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        await service.delete_thread(session, thread)
    return redirect(request, str(request.url_for("threads:list")))


@login_required
async def post_message(request: Request) -> Response:
    """Store the message and start the reply; the composer explains any refusal."""
    form = await read_form(request)
    ctx, user_id, thread_id = app_context(request), current_user(request).id, _thread_id(request)
    try:
        async with ctx.db.transaction() as session:
            posted = await service.post_message(
                session,
                ctx.settings,
                user_id,
                thread_id,
                form.get("content", ""),
                form.get("agent_id") or None,
                model=form.get("model"),
            )
            await control.admit_start(ctx, user_id)  # counted only for a run that starts
        await control.start(ctx, posted.run)
    except ValidationFailed as exc:
        return await _composer_error(request, form, exc.errors, 400)
    except Conflict as exc:
        return await _composer_error(request, form, {"content": str(exc)}, 409)
    except RateLimited as exc:
        refused = await _composer_error(request, form, {"content": str(exc)}, 429)
        refused.headers.update(exc.headers)
        return refused
    if not is_htmx(request):
        return redirect(request, str(request.url_for("threads:show", thread_id=thread_id)))
    async with ctx.db.transaction() as session:
        thread = await service.get_thread(session, user_id, thread_id)
        context = await _thread_context(session, request, thread, with_messages=False)
    context["posted"] = posted.message
    return render(request, "threads/_posted.html", context)


@login_required
async def retry_reply(request: Request) -> Response:
    """Try a failed reply again: a new run answers the thread's last message; with htmx the
    live reply is appended below the failure (a refusal is a toast)."""
    ctx, user_id, thread_id = app_context(request), current_user(request).id, _thread_id(request)
    message_id: uuid.UUID = request.path_params["message_id"]
    async with ctx.db.transaction() as session:
        run = await service.retry_reply(session, ctx.settings, user_id, thread_id, message_id)
        await control.admit_start(ctx, user_id)
    await control.start(ctx, run)
    if not is_htmx(request):
        return redirect(request, str(request.url_for("threads:show", thread_id=thread_id)))
    template, context = await live_template(ctx, await run_view(request, ctx, run))
    return render(request, template, context)


@login_required
async def generated_title(request: Request) -> Response:
    """The title made after a new thread's first reply (asked by threads/_title_wait.html):
    header, tab and sidebar out of band once the worker announces it; empty if none comes."""
    ctx, user_id = app_context(request), current_user(request).id
    async with ctx.db.transaction() as session:
        run = await runs.get_run(session, user_id, request.path_params["run_id"])
        if run.thread_id != _thread_id(request):
            raise NotFound(str(run.id))
        wanted = await titles.wanted(session, run)
    # No session is held while waiting; an empty answer just removes the waiting element.
    if not wanted or await titles.wait_for_title(ctx, run.id) is None:
        return HTMLResponse("")
    async with ctx.db.transaction() as session:
        thread = await service.get_thread(session, user_id, run.thread_id)
        sidebar = await service.list_threads(session, user_id)
    return render(request, "threads/_titled.html", {"thread": thread, "sidebar": sidebar, "form": {}, "errors": {}})


async def _composer_error(request: Request, form: dict[str, str], errors: dict[str, str], status_code: int) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        context = await _thread_context(session, request, thread)
    context.update(errors=errors, form=form)
    return render(
        request, "threads/page.html", context,
        fragment="threads/_composer.html", status_code=status_code,
    )  # fmt: skip


routes = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/threads", list_threads, methods=["GET"], name="threads:list"),
    Route("/threads", create_thread, methods=["POST"], name="threads:create"),
    Route("/threads/{thread_id:uuid}", show_thread, methods=["GET"], name="threads:show"),
    Route("/threads/{thread_id:uuid}/rename", rename_thread, methods=["POST"], name="threads:rename"),
    Route(
        "/threads/{thread_id:uuid}/delete",
        confirm_delete,
        methods=["GET"],
        name="threads:confirm_delete",
    ),
    Route("/threads/{thread_id:uuid}/delete", delete_thread, methods=["POST"], name="threads:delete"),
    Route(
        "/threads/{thread_id:uuid}/messages",
        post_message,
        methods=["POST"],
        name="threads:post_message",
    ),
    Route("/threads/{thread_id:uuid}/messages", older_messages, methods=["GET"], name="threads:older"),
    Route(
        "/threads/{thread_id:uuid}/runs/{run_id:uuid}/title",
        generated_title,
        methods=["GET"],
        name="threads:title",
    ),
    Route(
        "/threads/{thread_id:uuid}/messages/{message_id:uuid}/retry",
        retry_reply,
        methods=["POST"],
        name="threads:retry",
    ),
]
