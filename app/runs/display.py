"""How a reply in progress looks on a thread page: the live text and steps, or the pause card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from app.context import AppContext
from app.models import Run, RunStatus
from app.runs import trace
from app.runs.streaming import text_so_far


@dataclass(frozen=True)
class RunView:
    """What threads/_run.html needs to show a reply being written."""

    run: Run
    text: str
    stream_url: str
    cancel_url: str
    steps: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PauseView:
    """What threads/_pause.html needs: the question or approval, and where to answer."""

    run: Run
    request: dict[str, Any]
    text: str
    answer_url: str
    cancel_url: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _urls(request: Request, run: Run, name: str) -> str:
    return str(request.url_for(name, thread_id=run.thread_id, run_id=run.id))


async def run_view(request: Request, ctx: AppContext, run: Run) -> RunView | PauseView:
    if run.status is RunStatus.WAITING and run.pending:
        return await pause_view(request, ctx, run)
    text, last_id = await text_so_far(ctx, run.id)
    steps = trace.from_events(await ctx.events.read_after(str(run.id), 0))
    stream = request.url_for("runs:stream", thread_id=run.thread_id, run_id=run.id).include_query_params(after=last_id)
    return RunView(
        run,
        text,
        str(stream),
        _urls(request, run, "runs:cancel"),
        [s for s in steps if s["kind"] == "tool"],
    )


async def pause_view(request: Request, ctx: AppContext, run: Run, error: str | None = None) -> PauseView:
    pending = run.pending or {}
    steps = trace.from_events(await ctx.events.read_after(str(run.id), 0))
    tool_steps = [s for s in steps if s["kind"] == "tool"]
    answer_url, cancel_url = _urls(request, run, "runs:answer"), _urls(request, run, "runs:cancel")
    return PauseView(
        run, dict(pending.get("request", {})), str(pending.get("text", "")), answer_url, cancel_url, tool_steps, error
    )


def live_template(view: RunView | PauseView) -> tuple[str, dict[str, Any]]:
    if isinstance(view, PauseView):
        return "threads/_pause.html", {"pause_view": view}
    return "threads/_run.html", {"run_view": view}
