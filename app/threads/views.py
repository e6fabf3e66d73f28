"""Thread pages: sidebar list, thread view, rename, delete, posting messages."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.agent_configs import service as agent_configs
from app.errors import Conflict, NotFound, RateLimited, ValidationFailed
from app.files import service as files
from app.models import Thread
from app.preferences import onboarding
from app.runs import control, titles
from app.runs import service as runs
from app.runs.display import live_template, run_view
from app.threads import search, service
from app.threads.page import messages_context as _messages_context
from app.threads.page import thread_context
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form, read_form_lists
from app.web.htmx import is_htmx, redirect
from app.web.params import page_number, query_id, query_text
from app.web.templates import render

MAX_SEARCH_CHARS = 200


def _thread_id(request: Request) -> uuid.UUID:
    thread_id: uuid.UUID = request.path_params["thread_id"]
    return thread_id


def _page(request: Request) -> int:
    return page_number(request)


async def home(request: Request) -> Response:
    return RedirectResponse(request.url_for("threads:list"), status_code=303)


@login_required
async def list_threads(request: Request) -> Response:
    user = current_user(request)
    async with app_context(request).db.transaction() as session:
        context = await thread_context(session, request, None)
        # An admin's first-run checklist, until every step is done or they close it.
        context["onboarding"] = await onboarding.checklist(session, user.id) if user.is_admin else None
    return render(request, "threads/page.html", context, fragment="threads/_sidebar_page.html")


@login_required
async def create_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await service.create_thread(session, current_user(request).id)
    return redirect(request, str(request.url_for("threads:show", thread_id=thread.id)))


@login_required
async def show_thread(request: Request) -> Response:
    """The thread at its newest messages, or, for a search result (`?m=<message id>`), reaching
    back to the message found, which chat.js scrolls to."""
    found = query_id(request, "m")
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        context = await thread_context(session, request, thread, with_messages=found is None)
        if found is not None:
            page = await service.message_page_reaching(session, thread, found)
            context.update(await _messages_context(session, page))
            context["found_id"] = found if any(m.id == found for m in context["messages"]) else None
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
            context = await thread_context(session, request, thread)
            context.update(errors=exc.errors, form=form)
            return render(
                request,
                "threads/page.html",
                context,
                fragment="threads/_title.html",
                status_code=400,
            )
        context = await thread_context(session, request, thread)
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
        keys = await service.delete_thread(session, thread)
    await files.remove_objects(app_context(request).storage, keys)
    return redirect(request, str(request.url_for("threads:list")))


@login_required
async def post_message(request: Request) -> Response:
    """Store the message and start the reply; the composer explains any refusal."""
    form, lists = await read_form_lists(request)
    ctx, user_id, thread_id = app_context(request), current_user(request).id, _thread_id(request)
    try:
        file_ids = files.parse_ids(lists.get("files", []))
        async with ctx.db.transaction() as session:
            posted = await service.post_message(
                session,
                ctx.settings,
                user_id,
                thread_id,
                form.get("content", ""),
                form.get("agent_id") or None,
                model=form.get("model"),
                file_ids=file_ids,
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
        context = await thread_context(session, request, thread, with_messages=False)
    context["posted"] = posted.message
    carried = [file for file in context["thread_files"] if file.message_id == posted.message.id]
    context["message_files"] = {posted.message.id: carried}
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
        sidebar = await service.list_threads(session, user_id, timezone=current_user(request).timezone)
    return render(request, "threads/_titled.html", {"thread": thread, "sidebar": sidebar, "form": {}, "errors": {}})


@login_required
async def search_threads(request: Request) -> Response:
    """`?q=`: the user's threads whose title or messages have its words, matches marked. htmx
    asks as the sidebar's search box is typed in (the results alone, nothing for no query)."""
    query = query_text(request, "q", MAX_SEARCH_CHARS)
    async with app_context(request).db.transaction() as session:
        results = await search.search_threads(session, current_user(request).id, query) if query else []
        if is_htmx(request):
            if not query:
                return HTMLResponse("", headers={"Vary": "HX-Request"})
            return render(request, "threads/_search_results.html", {"search": _search(query, results)})
        context = await thread_context(session, request, None)
    context["search"] = _search(query, results) if query else None
    return render(request, "threads/page.html", context)


def _search(query: str, results: list[search.SearchResult]) -> dict[str, Any]:
    return {"query": query, "results": results, "has_words": bool(search.search_words(query))}


@login_required
async def archived_threads(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        archived = await service.archived_threads(session, current_user(request).id, _page(request))
    context = _archived_context(request, archived)
    return render(request, "threads/archived.html", context, fragment="threads/_archived_list.html")


def _archived_context(request: Request, archived: service.ThreadPage) -> dict[str, Any]:
    timezone = current_user(request).timezone
    return {"archived": archived, "day_of": lambda thread: service.local_day(thread.updated_at, timezone)}


@login_required
async def pin_thread(request: Request) -> Response:
    """Pin (`pinned=true`) or unpin a thread; htmx gets the header and the sidebar (out of band)."""
    form = await read_form(request)
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        service.set_pinned(thread, form.get("pinned") == "true")
    return await _after_change(request, thread, form)


@login_required
async def archive_thread(request: Request) -> Response:
    """Archive (`archived=true`) or restore a thread; from the Archived page (`back=archived`)
    htmx gets that page's list again, else the header and the sidebar."""
    form = await read_form(request)
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        service.set_archived(thread, form.get("archived") == "true")
    return await _after_change(request, thread, form)


async def _after_change(request: Request, thread: Thread, form: dict[str, str]) -> Response:
    from_archived = form.get("back") == "archived"
    if not is_htmx(request):
        if from_archived:
            return redirect(request, str(request.url_for("threads:archived")))
        return redirect(request, str(request.url_for("threads:show", thread_id=thread.id)))
    async with app_context(request).db.transaction() as session:
        if from_archived:
            archived = await service.archived_threads(session, current_user(request).id, _page(request))
            return render(request, "threads/_archived_list.html", _archived_context(request, archived))
        thread = await service.get_thread(session, current_user(request).id, thread.id)
        context = await thread_context(session, request, thread, with_messages=False)
    return render(request, "threads/_renamed.html", context)


async def _composer_error(request: Request, form: dict[str, str], errors: dict[str, str], status_code: int) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await service.get_thread(session, current_user(request).id, _thread_id(request))
        context = await thread_context(session, request, thread)
    context.update(errors=errors, form=form)
    return render(
        request, "threads/page.html", context,
        fragment="threads/_composer.html", status_code=status_code,
    )  # fmt: skip


routes = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/threads", list_threads, methods=["GET"], name="threads:list"),
    Route("/threads", create_thread, methods=["POST"], name="threads:create"),
    Route("/threads/search", search_threads, methods=["GET"], name="threads:search"),
    Route("/threads/archived", archived_threads, methods=["GET"], name="threads:archived"),
    Route("/threads/{thread_id:uuid}", show_thread, methods=["GET"], name="threads:show"),
    Route("/threads/{thread_id:uuid}/pin", pin_thread, methods=["POST"], name="threads:pin"),
    Route("/threads/{thread_id:uuid}/archive", archive_thread, methods=["POST"], name="threads:archive"),
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
