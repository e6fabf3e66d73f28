"""Browser side of runs: the live reply (HTML over SSE), Stop, answers, the trace."""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.context import AppContext
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.events import EventType, RunEvent
from app.models import FinishReason, Message, MessageRole, Run, RunStatus
from app.models.thread import MessageVersions
from app.runs import control, repository, service, stats, titles, trace
from app.runs.display import agents_by_id, live_template, next_status, pause_view, run_view
from app.runs.endings import ending_of_event
from app.runs.streaming import open_run_stream, text_so_far
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import is_htmx, redirect
from app.web.markdown_stream import Rendered, StreamingMarkdown
from app.web.sse import resume_after, sse_response
from app.web.templates import render, render_fragment


@login_required
async def stream(request: Request) -> Response:
    ctx = app_context(request)
    opened = await open_run_stream(
        ctx, current_user(request).id, request.path_params["run_id"], resume_after(request),
        thread_id=request.path_params["thread_id"],
    )  # fmt: skip
    if opened.events is None:
        return Response(status_code=204)  # tells EventSource not to reconnect
    frames = _html_frames(request, ctx, opened.run, opened.events, resume_after(request))
    return sse_response(request, frames, ctx.settings)


async def _html_frames(
    request: Request, ctx: AppContext, run: Run, events: AsyncIterator[RunEvent], after: int
) -> AsyncIterator[ServerSentEvent]:
    """The text as Markdown (finished blocks once, the open one again), steps as they
    happen; the end (or a pause) as the message."""
    markdown: StreamingMarkdown | None = None  # made on the first text: most frames are not
    # The bubble's status line; unknown to a reconnect, which may follow a retry's line.
    shown: str | None = None
    async for event in events:
        event_id = str(event.id) if event.id else None
        status = next_status(shown or "", event)
        if event.type in (EventType.MESSAGE_DELTA, EventType.RUN_RESTARTED):
            if markdown is None:
                markdown = StreamingMarkdown((await text_so_far(ctx, run.id, until=after))[0])
            text = str(event.data.get("text", ""))
            restarted = event.type == EventType.RUN_RESTARTED
            rendered = markdown.reset(text) if restarted else markdown.feed(text)
            yield ServerSentEvent(_markdown_html(run.id, rendered, restarted), event="delta", id=event_id)
        elif event.type in (EventType.TOOL_STARTED, EventType.TOOL_FINISHED):
            yield ServerSentEvent(_step_html(request, event), event="step", id=event_id)
        elif event.type == EventType.RUN_WAITING:
            async with ctx.db.transaction() as session:
                paused = await session.get(Run, run.id)
            if paused is not None and paused.status is RunStatus.WAITING:
                template, context = await live_template(ctx, await pause_view(request, ctx, paused))
                yield ServerSentEvent(render_fragment(request, template, context), event="done", id=event_id)
                return
        elif event.terminal:
            message = _finished_message(event, run.agent_id)
            yield ServerSentEvent(await _done_html(request, ctx, message), event="done", id=event_id)
        else:
            # No look of its own (started, a model call done, a retry): the status line, and the id.
            yield ServerSentEvent(_status_html(status), event="status", id=event_id)
            shown = status
        if status != shown:  # the reply moves again after a retry: its line goes
            yield ServerSentEvent(_status_html(status), event="status")
            shown = status


async def _done_html(request: Request, ctx: AppContext, message: Message) -> str:
    """The finished message with its stats; after a new thread's first reply, also the request
    that waits for the title the worker is writing (the stream ends here, app/runs/titles.py)."""
    async with ctx.db.transaction() as session:
        finished = await session.get(Run, message.run_id) if message.run_id else None
        wants_title = finished is not None and await titles.wanted(session, finished)
        reply = await repository.reply_for(session, finished.id) if finished else None
        versions = await repository.version_ids(session, reply) if reply else []
    context = {
        "message": message,
        "agents_by_id": await agents_by_id(ctx, message.agent_id),
        "reply_stats": {finished.id: stats.of_run(finished)} if finished else {},
        # A regenerated reply: the switch between it and the earlier ones.
        "versions": {reply.id: MessageVersions.among(versions, reply.id)} if reply and len(versions) > 1 else {},
    }
    html_message = render_fragment(request, "threads/_message.html", context)
    if wants_title:
        html_message += render_fragment(request, "threads/_title_wait.html", {"run": finished})
    return html_message


def _markdown_html(run_id: uuid.UUID, shown: Rendered, restarted: bool) -> str:
    """The open block (swapped in place), with newly finished blocks appended out of band
    (or, after a restart, put in place of all the earlier ones)."""
    finished = ""
    if shown.finished or restarted:
        how = "innerHTML" if restarted else "beforeend"
        finished = f'<div hx-swap-oob="{how}:#run-blocks-{run_id}">{shown.finished}</div>'
    return finished + str(shown.open)


def _status_html(line: str) -> str:
    # Never empty: EventSource drops an event without data, and the old line would stay.
    return f'<span class="run-status-text">{html.escape(line)}</span>'


def _step_html(request: Request, event: RunEvent) -> str:
    step = dict(event.data)
    if event.type == EventType.TOOL_FINISHED and step.get("status") != "declined":
        return render_fragment(request, "threads/_step_update.html", {"step": step})
    markup = render_fragment(request, "threads/_step.html", {"step": step})
    if step.get("parent"):
        # A sub-agent's step goes inside the step of the call that started it.
        return f'<div hx-swap-oob="beforeend:#step-children-{html.escape(str(step["parent"]))}">{markup}</div>'
    return markup


def _finished_message(event: RunEvent, agent_id: uuid.UUID | None) -> Message:
    data = event.data
    # The message's own reason when it has one: a run failed by a restart keeps its text.
    kept = data.get("finish_reason")
    finish = FinishReason(kept) if kept else ending_of_event(event.type).finish_reason
    content = data.get("error") if finish is FinishReason.ERROR else data.get("content")
    message_id = data.get("message_id") or data.get("run_id")
    run_id = data.get("run_id")
    return Message(
        id=uuid.UUID(str(message_id)), role=MessageRole.ASSISTANT, content=str(content or ""),
        finish_reason=finish, created_at=utcnow(),
        run_id=uuid.UUID(str(run_id)) if run_id else None, agent_id=agent_id,
        thread_id=uuid.UUID(str(data["thread_id"])) if data.get("thread_id") else None,
    )  # fmt: skip


async def _owned_run(request: Request) -> Run:
    async with app_context(request).db.transaction() as session:
        run = await service.get_run(session, current_user(request).id, request.path_params["run_id"])
    if run.thread_id != request.path_params["thread_id"]:
        raise NotFound(str(run.id))
    return run


@login_required
async def cancel(request: Request) -> Response:
    run = await _owned_run(request)
    await control.stop(app_context(request), current_user(request).id, run.id)
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204)
    return redirect(request, str(request.url_for("threads:show", thread_id=run.thread_id)))


@login_required
async def answer(request: Request) -> Response:
    """The answer to a question card or an approval card; the run resumes on a worker."""
    ctx, run = app_context(request), await _owned_run(request)
    form = await read_form(request)
    value: Any
    if "decision" in form:
        value = {"approved": form["decision"] == "approve"}
    else:
        value = (form.get("answer_text") or form.get("answer") or "").strip()
        if not value:
            return await _pause_error(request, run, "Write an answer or pick a choice.", 400)
    try:
        resumed = await control.answer(ctx, current_user(request).id, run.id, value)
    except Conflict as exc:
        return await _pause_error(request, run, str(exc), 409)
    if not is_htmx(request):
        return redirect(request, str(request.url_for("threads:show", thread_id=run.thread_id)))
    view = await run_view(request, ctx, resumed)
    template, context = await live_template(ctx, view)
    return render(request, template, context)


async def _pause_error(request: Request, run: Run, error: str, status_code: int) -> Response:
    """The question or approval card again, saying why the answer was not taken."""
    ctx = app_context(request)
    template, context = await live_template(ctx, await pause_view(request, ctx, run, error))
    return render(request, template, context, status_code=status_code)


@login_required
async def show_trace(request: Request) -> Response:
    ctx, run = app_context(request), await _owned_run(request)
    live = not run.status.is_terminal or run.trace is None
    steps = trace.from_events(await ctx.events.read_after(str(run.id), 0)) if live else list(run.trace or [])
    context = {"steps": steps, "run": run, "live": not run.status.is_terminal}
    return render(request, "threads/trace.html", context, fragment="threads/_trace.html")


routes = [
    Route(
        "/threads/{thread_id:uuid}/runs/{run_id:uuid}/stream",
        stream,
        methods=["GET"],
        name="runs:stream",
    ),
    Route(
        "/threads/{thread_id:uuid}/runs/{run_id:uuid}/cancel",
        cancel,
        methods=["POST"],
        name="runs:cancel",
    ),
    Route(
        "/threads/{thread_id:uuid}/runs/{run_id:uuid}/answer",
        answer,
        methods=["POST"],
        name="runs:answer",
    ),
    Route(
        "/threads/{thread_id:uuid}/runs/{run_id:uuid}/trace",
        show_trace,
        methods=["GET"],
        name="runs:trace",
    ),
]
