"""GET /v1/models and POST /v1/chat/completions, usable with the official openai client.

A completion is a normal run: it lands in a thread the user can open (its id is in the
`X-Nova-Thread-Id` header; send that header back to continue the same thread), executes
on a worker, and streams from the same events as the browser.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.agent_configs import service as agent_configs
from app.context import AppContext
from app.errors import Conflict, NotFound, ThreadBusy, ValidationFailed
from app.events import EventType, RunEvent
from app.idempotency import service as idempotency
from app.openai_compat import convert
from app.openai_compat import service as asking
from app.openai_compat.convert import ChatRequest
from app.openai_compat.schemas import ChatCompletion, ChatCompletionRequest, ModelList
from app.runs import control
from app.runs import service as runs
from app.runs.streaming import open_run_stream
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.errors import openai_error
from app.web.json import json_body
from app.web.openapi import operation
from app.web.sse import sse_response

THREAD_HEADER = "X-Nova-Thread-Id"
# A decided outcome never has a status the official clients retry (408, 409, 429, 5xx): a
# retry would start the run again. A waiting run answers 200 (its reply says it waits).
FAILED_STATUS, BUSY_STATUS = 424, 423
# Official openai clients do not reconnect, so a stream cut at NOVA_SSE_MAX_LIFETIME_SECONDS says why.
LIFETIME_MESSAGE = (
    "The reply outlasted this connection's time limit and the stream was closed; "
    f"the thread ({THREAD_HEADER}) has the full answer."
)
REVOKED_MESSAGE = "This API token was revoked or its user suspended; the stream was closed."


@login_required
@operation(summary="List agents as models", tag="OpenAI-compatible", scope="read", responses={200: ModelList})
async def list_models(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        found = await agent_configs.agents_for_chat(session, current_user(request).id, app_context(request).settings)
    data = [{"id": a.slug, "object": "model", "created": int(a.created_at.timestamp()),
             "owned_by": "nova", "name": a.name} for a in found]  # fmt: skip
    return JSONResponse({"object": "list", "data": data})


@login_required
@operation(summary="Ask an agent (a run in a new or given thread)", tag="OpenAI-compatible", scope="write",
           body=ChatCompletionRequest, responses={200: ChatCompletion}, stream_status=200,
           problems=(400, 423, 424, 503, 504), idempotency_key=True,
           description=f"Send `{THREAD_HEADER}` to continue a thread; the answer names it in that header.")  # fmt: skip
async def chat_completions(request: Request) -> Response:
    ctx, user_id = app_context(request), current_user(request).id
    try:
        body = await json_body(request)
        chat = convert.parse_chat_request(body)
        run_id, thread_id, replayed = await _start_or_replay(request, ctx, user_id, chat, body)
    except ValidationFailed as exc:
        status = 422 if idempotency.HEADER in exc.errors else 400  # the key reused with another request
        param = next(iter(exc.errors), None)
        return openai_error(status, "; ".join(exc.errors.values()), code="invalid_request", param=param)
    except NotFound:
        return openai_error(404, "No such thread.", code="thread_not_found")
    except ThreadBusy as exc:
        return openai_error(BUSY_STATUS, runs.api_busy_message(exc.run_id), code="thread_busy")
    except Conflict as exc:
        return openai_error(409, str(exc), code="conflict")
    headers = {THREAD_HEADER: str(thread_id), "X-Nova-Run-Id": str(run_id)}
    link = str(request.url_for("threads:show", thread_id=thread_id))
    events = _replayed(ctx, user_id, run_id) if replayed else ctx.events.follow(str(run_id))
    if chat.stream:
        frames = _stream_chunks(str(run_id), chat, events, link)
        return sse_response(
            request, frames, ctx.settings, headers=headers,
            farewell=_farewell(LIFETIME_MESSAGE, "stream_lifetime_exceeded"),
            revoked=_farewell(REVOKED_MESSAGE, "credentials_revoked"),
        )  # fmt: skip
    return await _wait_for_completion(str(run_id), chat, events, headers, link)


async def _start_or_replay(
    request: Request, ctx: AppContext, user_id: uuid.UUID, chat: ChatRequest, body: dict[str, Any]
) -> tuple[uuid.UUID, uuid.UUID, bool]:
    """(run, thread, whether it is the run of an earlier request with the same Idempotency-Key)."""
    key = request.headers.get(idempotency.HEADER)
    request_body = {"body": body, "thread": request.headers.get(THREAD_HEADER)}
    async with ctx.db.transaction() as session:  # one transaction: the first token waits on it
        record = await idempotency.claim_request(session, user_id, key, "POST", request.url.path, request_body)
        if isinstance(record, idempotency.Replay):
            if record.run_id is None or not record.response:  # its run was deleted with its thread
                raise NotFound("run")
            return record.run_id, uuid.UUID(record.response["thread_id"]), True
        await _check_agent(session, ctx, user_id, chat.model)
        posted = await asking.post_question(
            session, ctx, user_id, chat.model, chat.prompt, _named_thread(request),
            history=chat.history, system=chat.system, options=chat.options,
        )  # fmt: skip
        thread_id = posted.run.thread_id
        idempotency.remember(record, 200, {"thread_id": str(thread_id)}, posted.run.id)
    await control.start(ctx, posted.run)
    return posted.run.id, thread_id, False


async def _replayed(ctx: AppContext, user_id: uuid.UUID, run_id: uuid.UUID) -> AsyncIterator[RunEvent]:
    """The earlier run's events from the start (or its outcome, once its log expired)."""
    opened = await open_run_stream(ctx, user_id, run_id, 0)
    if opened.events is not None:
        async for event in opened.events:
            yield event


async def _check_agent(session: AsyncSession, ctx: AppContext, user_id: uuid.UUID, model: str) -> None:
    if model not in {a.slug for a in await agent_configs.agents_for_chat(session, user_id, ctx.settings)}:
        raise ValidationFailed({"model": f"No agent “{model}”; see GET /v1/models."})


def _named_thread(request: Request) -> uuid.UUID | None:
    """The thread to continue (the header), or None for a new one holding the history sent along."""
    named = request.headers.get(THREAD_HEADER)
    if not named:
        return None
    try:
        return uuid.UUID(named)
    except ValueError:
        raise NotFound(named) from None


async def _stream_chunks(
    run_id: str, chat: ChatRequest, events: AsyncIterator[RunEvent], link: str
) -> AsyncIterator[ServerSentEvent]:
    def frame(value: dict[str, Any]) -> ServerSentEvent:
        return ServerSentEvent(json.dumps(value, separators=(",", ":")))

    sent_text = False
    yield frame(convert.chunk(run_id, chat.model, {"role": "assistant", "content": ""}))
    async for event in events:
        if event.type == EventType.MESSAGE_DELTA:
            sent_text = True
            yield frame(convert.chunk(run_id, chat.model, {"content": event.data.get("text", "")}))
        elif event.type == EventType.RUN_RESTARTED and sent_text:
            # OpenAI's protocol cannot take text back: say so instead of sending it twice.
            yield frame(_error_body(f"The reply restarted after a failure; the thread has the full answer: {link}"))
            break
        elif event.type == EventType.RUN_FAILED:
            yield frame(_error_body(asking.failed_text(run_id, event, link)))
            break
        elif event.type == EventType.RUN_WAITING:
            yield frame(_error_body(asking.waiting_text(run_id, event, link), code="run_waiting"))
            break
        elif event.terminal:
            yield frame(convert.chunk(run_id, chat.model, {}, finish="stop"))
            if chat.include_usage and (usage := convert.usage_of(event)):
                yield frame(convert.chunk(run_id, chat.model, {}) | {"choices": [], "usage": usage})
            break
    yield ServerSentEvent("[DONE]")


def _error_body(message: str, code: str = "run_failed") -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error", "param": None, "code": code}}


def _farewell(message: str, code: str) -> list[ServerSentEvent]:
    """How a stream cut short (lifetime, revoked credentials) ends: an OpenAI-shaped error, then [DONE]."""
    error = _error_body(message, code=code)
    return [ServerSentEvent(json.dumps(error, separators=(",", ":"))), ServerSentEvent("[DONE]")]


async def _wait_for_completion(
    run_id: str, chat: ChatRequest, events: AsyncIterator[RunEvent], headers: dict[str, str], link: str
) -> Response:
    outcome = await asking.follow_to_ending(events)
    response: Response
    if outcome is None:
        return openai_error(504, "The run ended without a result.")
    if outcome.ending is asking.Ending.WAITING:
        # Decided, and not an error: the reply is that the agent waits for the user.
        body = convert.text_completion(run_id, chat.model, asking.waiting_text(run_id, outcome.event, link))
        response = JSONResponse(body | {"nova": {"status": "waiting", "run_id": run_id, "thread_url": link}})
    elif outcome.ending is asking.Ending.FAILED:
        response = openai_error(FAILED_STATUS, asking.failed_text(run_id, outcome.event, link), code="run_failed")
    else:  # completed, or stopped: what it had said
        response = JSONResponse(convert.completion(run_id, chat.model, outcome.event))
    response.headers.update(headers)
    return response


routes = [
    Route("/v1/models", list_models, methods=["GET"], name="openai:models"),
    Route("/v1/chat/completions", chat_completions, methods=["POST"], name="openai:chat"),
]
