"""How a reply in progress looks on a thread page: the live text and steps, or the pause card."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from app.context import AppContext
from app.events import EventType, RunEvent
from app.models import Agent, Run, RunStatus
from app.runs import trace
from app.runs.streaming import text_so_far
from app.web.markdown_stream import Rendered, StreamingMarkdown


@dataclass(frozen=True)
class RunView:
    """What threads/_run.html needs to show a reply being written."""

    run: Run
    text: str
    stream_url: str
    cancel_url: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""  # "Retrying (2/4)…" while a provider failure is retried

    @property
    def markdown(self) -> Rendered:
        """The text so far as the stream goes on from it: finished blocks and the open one."""
        return StreamingMarkdown(self.text).shown


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
    events = await ctx.events.read_after(str(run.id), 0)
    steps = trace.from_events(events)
    stream = request.url_for("runs:stream", thread_id=run.thread_id, run_id=run.id).include_query_params(after=last_id)
    return RunView(
        run,
        text,
        str(stream),
        _urls(request, run, "runs:cancel"),
        [s for s in steps if s["kind"] == "tool"],
        status_line(events),
    )


# Events that show the reply moving again, which ends a "Retrying" line.
_PROGRESS = frozenset({EventType.MESSAGE_DELTA, EventType.RUN_RESTARTED, EventType.TOOL_STARTED,
                       EventType.TOOL_FINISHED, EventType.RUN_STARTED, EventType.RUN_RESUMED})  # fmt: skip


def next_status(shown: str, event: RunEvent) -> str:
    """The streaming reply's status line after `event`: "Retrying (2/4)…" from a provider
    failure until text or a step comes again, so a retry is never a silent, empty bubble."""
    if event.type == EventType.RUN_RETRYING:
        return f"Retrying ({event.data.get('attempt')}/{event.data.get('of')})…"
    return "" if event.type in _PROGRESS else shown


def status_line(events: Sequence[RunEvent]) -> str:
    return functools.reduce(next_status, events, "")


async def pause_view(request: Request, ctx: AppContext, run: Run, error: str | None = None) -> PauseView:
    pending = run.pending or {}
    steps = trace.from_events(await ctx.events.read_after(str(run.id), 0))
    tool_steps = [s for s in steps if s["kind"] == "tool"]
    answer_url, cancel_url = _urls(request, run, "runs:answer"), _urls(request, run, "runs:cancel")
    return PauseView(
        run, dict(pending.get("request", {})), str(pending.get("text", "")), answer_url, cancel_url, tool_steps, error
    )


async def agents_by_id(ctx: AppContext, agent_id: uuid.UUID | None) -> dict[uuid.UUID, Agent]:
    """The agent that writes a reply, for its label (threads pages pass all the user's agents)."""
    if agent_id is None:
        return {}
    async with ctx.db.transaction() as session:
        agent = await session.get(Agent, agent_id)
    return {agent.id: agent} if agent is not None else {}


async def live_template(ctx: AppContext, view: RunView | PauseView) -> tuple[str, dict[str, Any]]:
    labels = await agents_by_id(ctx, view.run.agent_id)
    if isinstance(view, PauseView):
        return "threads/_pause.html", {"pause_view": view, "agents_by_id": labels}
    return "threads/_run.html", {"run_view": view, "agents_by_id": labels}
