"""Browser side of runs: the live reply stream (HTML over SSE) and Stop."""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sse_starlette import ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.context import AppContext
from app.db import utcnow
from app.errors import NotFound
from app.events import RunEvent
from app.models import FinishReason, Message, MessageRole, Run
from app.runs import service
from app.runs.streaming import open_run_stream, text_so_far
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.htmx import redirect
from app.web.sse import resume_after, sse_response
from app.web.templates import render_fragment

FINISH_BY_EVENT = {
    "run.completed": FinishReason.STOP,
    "run.cancelled": FinishReason.CANCELLED,
    "run.failed": FinishReason.ERROR,
}


@dataclass(frozen=True)
class RunView:
    """What threads/_run.html needs to show a reply being written."""

    run: Run
    text: str
    stream_url: str
    cancel_url: str


async def run_view(request: Request, ctx: AppContext, run: Run) -> RunView:
    text, last_id = await text_so_far(ctx, run.id)
    ids = {"thread_id": run.thread_id, "run_id": run.id}
    stream = request.url_for("runs:stream", **ids).include_query_params(after=last_id)
    return RunView(run, text, str(stream), str(request.url_for("runs:cancel", **ids)))


@login_required
async def stream(request: Request) -> Response:
    ctx = app_context(request)
    opened = await open_run_stream(
        ctx, current_user(request).id, request.path_params["run_id"], resume_after(request),
        thread_id=request.path_params["thread_id"],
    )  # fmt: skip
    if opened.events is None:
        return Response(status_code=204)  # tells EventSource not to reconnect
    return sse_response(_html_frames(request, opened.events), ctx.settings)


async def _html_frames(
    request: Request, events: AsyncIterator[RunEvent]
) -> AsyncIterator[ServerSentEvent]:
    """Deltas as escaped text to append; the end as the finished, rendered message."""
    async for event in events:
        event_id = str(event.id) if event.id else None
        if event.type == "message.delta":
            yield ServerSentEvent(
                html.escape(str(event.data.get("text", ""))), event="delta", id=event_id
            )
        elif event.type == "run.restarted":
            yield ServerSentEvent("", event="restart", id=event_id)
        elif event.terminal:
            message = _finished_message(event)
            html_message = render_fragment(request, "threads/_message.html", {"message": message})
            yield ServerSentEvent(html_message, event="done", id=event_id)
        else:
            yield ServerSentEvent(event.type, event="status", id=event_id)


def _finished_message(event: RunEvent) -> Message:
    data = event.data
    finish = FINISH_BY_EVENT[event.type]
    content = data.get("error") if finish is FinishReason.ERROR else data.get("content")
    message_id = data.get("message_id") or data.get("run_id")
    return Message(
        id=uuid.UUID(str(message_id)), role=MessageRole.ASSISTANT, content=str(content or ""),
        finish_reason=finish, created_at=utcnow(),
    )  # fmt: skip


@login_required
async def cancel(request: Request) -> Response:
    run_id: uuid.UUID = request.path_params["run_id"]
    thread_id: uuid.UUID = request.path_params["thread_id"]
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        run = await service.get_run(session, current_user(request).id, run_id)
    if run.thread_id != thread_id:
        raise NotFound(str(run_id))
    await service.request_cancel(ctx, current_user(request).id, run_id)
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204)
    return redirect(request, str(request.url_for("threads:show", thread_id=thread_id)))


routes = [
    Route("/threads/{thread_id:uuid}/runs/{run_id:uuid}/stream", stream, methods=["GET"],
          name="runs:stream"),
    Route("/threads/{thread_id:uuid}/runs/{run_id:uuid}/cancel", cancel, methods=["POST"],
          name="runs:cancel"),
]  # fmt: skip
