"""An agent tool's call: start the run, stream its text as progress, answer with its ending.

The call lasts as long as the run does, until it ends or waits for the user. If the client
cancels the call, the run is stopped as Stop in the thread would stop it; a call cut short
because Nova is shutting down leaves the run alone (a worker may still finish it). Like an
event stream, the call ends once its token no longer signs in (the run goes on).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from fastmcp.server.context import Context
from fastmcp.server.dependencies import get_context, get_http_request
from fastmcp.tools.base import ToolResult

from app.context import AppContext
from app.errors import NotFound, QueueUnavailable, RateLimited, ThreadBusy, ValidationFailed
from app.mcp_endpoint.auth import Caller, caller, refused
from app.openai_compat import service as questions
from app.openai_compat.service import Ending, Outcome
from app.runs import control
from app.runs import service as runs
from app.threads.service import MAX_MESSAGE_CHARS, Posted
from app.tokens import service as tokens
from app.web.params import text_problem

# Progress notifications carry the reply's new text at most this often (not one per token).
PROGRESS_INTERVAL_SECONDS = 0.25
RESTARTED = "\n[The reply started over after a failure; what follows replaces the text so far.]\n"
REVOKED = "This API token was revoked or its user suspended; the run goes on in Nova: {link}"
Stopping = Callable[[], bool]


async def ask(ctx: AppContext, stopping: Stopping, agent: str, arguments: dict[str, Any]) -> ToolResult:
    user = caller()
    user.require_write()
    message, thread_id = _parse(arguments)
    posted = await _start(ctx, user, agent, message, thread_id)
    run_id, request = posted.run.id, get_http_request()
    link = str(request.url_for("threads:show", thread_id=posted.run.thread_id))
    progress = ReplyProgress(get_context())
    following = asyncio.ensure_future(
        questions.follow_to_ending(ctx.events.follow(str(run_id)), on_text=progress.add, on_restart=progress.restart)
    )
    watching = asyncio.ensure_future(_until_signed_out(ctx, user, request.headers.get("authorization", "")))
    try:
        await asyncio.wait([following, watching], return_when=asyncio.FIRST_COMPLETED)
    except anyio.get_cancelled_exc_class():
        if not stopping():  # the client gave up on the answer: stop the run it started
            with anyio.CancelScope(shield=True):
                await control.stop(ctx, user.user_id, run_id)
        raise
    finally:
        for task in (following, watching):
            task.cancel()
        with anyio.CancelScope(shield=True):  # let the log's listener go before answering
            await asyncio.gather(following, watching, return_exceptions=True)
    if following.cancelled():  # the token was revoked or its user suspended first
        raise refused(REVOKED.format(link=link))
    await progress.flush()
    return _result(following.result(), run_id, posted.run.thread_id, link)


async def _start(ctx: AppContext, user: Caller, agent: str, message: str, thread_id: uuid.UUID | None) -> Posted:
    try:
        async with ctx.db.transaction() as session:
            posted = await questions.post_question(session, ctx, user.user_id, agent, message, thread_id)
        await control.start(ctx, posted.run)
    except NotFound:
        raise refused(f"Thread {thread_id} not found." if thread_id else f"No agent “{agent}”.") from None
    except ThreadBusy as exc:
        raise refused(runs.api_busy_message(exc.run_id)) from None
    except ValidationFailed as exc:
        raise refused(" ".join(exc.errors.values())) from None
    except (RateLimited, QueueUnavailable) as exc:
        raise refused(str(exc)) from None
    return posted


async def _until_signed_out(ctx: AppContext, user: Caller, authorization: str) -> None:
    """Returns once the call's token no longer signs in its user (checked as the API checks it)."""
    secret = authorization.partition(" ")[2].strip()
    while True:
        await asyncio.sleep(ctx.settings.sse_reauth_seconds)
        async with ctx.db.transaction() as session:
            found = await tokens.user_for_token(session, secret)
        if found is None or found[1].id != user.user_id:
            return


def _parse(arguments: dict[str, Any]) -> tuple[str, uuid.UUID | None]:
    message, thread = arguments.get("message"), arguments.get("thread_id")
    if not isinstance(message, str) or not message.strip():
        raise refused("Send the question as `message` (text).")
    if problem := text_problem(message, MAX_MESSAGE_CHARS):
        raise refused(f"message: {problem}")
    if thread is None or thread == "":
        return message, None
    try:
        return message, uuid.UUID(str(thread))
    except ValueError:
        raise refused(f"Thread {thread} not found.") from None


def _result(outcome: Outcome | None, run_id: uuid.UUID, thread_id: uuid.UUID, link: str) -> ToolResult:
    if outcome is None:
        raise refused(f"The run ended without a result; the thread: {link}")
    ending = outcome.ending
    if ending is Ending.WAITING:
        text = questions.waiting_text(str(run_id), outcome.event, link)
    elif ending is Ending.FAILED:
        text = questions.failed_text(str(run_id), outcome.event, link)
    elif ending is Ending.CANCELLED:
        said = f" What it had said: {outcome.content}" if outcome.content else ""
        text = f"The run was stopped before it finished.{said}\n\nThe thread in Nova: {link}"
    else:
        text = f"{outcome.content}\n\nThe thread in Nova: {link}"
    structured = {"status": ending.value, "reply": outcome.content, "run_id": str(run_id),
                  "thread_id": str(thread_id), "thread_url": link}  # fmt: skip
    failed = ending in (Ending.FAILED, Ending.CANCELLED)
    return ToolResult(content=text, structured_content=structured, is_error=failed)


class ReplyProgress:
    """The reply's text as MCP progress notifications (fastmcp sends none unless the client
    gave a progress token): each carries the text since the last, a few a second at most;
    `progress` counts the characters sent, so it only grows, as MCP requires."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.pending: list[str] = []
        self.sent = 0
        self.sent_at = time.monotonic()

    async def add(self, text: str) -> None:
        self.pending.append(text)
        if time.monotonic() - self.sent_at >= PROGRESS_INTERVAL_SECONDS:
            await self.flush()

    async def restart(self, text: str) -> None:
        self.pending.extend([RESTARTED, text])
        await self.flush()

    async def flush(self) -> None:
        text = "".join(self.pending)
        self.pending.clear()
        if not text:
            return
        self.sent += len(text)
        self.sent_at = time.monotonic()
        await self.context.report_progress(self.sent, None, text)
