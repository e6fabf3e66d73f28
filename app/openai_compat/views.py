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
from app.errors import Conflict, NotFound, ValidationFailed
from app.events import EventType, RunEvent
from app.openai_compat import convert
from app.openai_compat.convert import ChatRequest
from app.runs import control
from app.threads import service as threads
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.errors import openai_error
from app.web.json import json_body
from app.web.sse import sse_response

THREAD_HEADER = "X-Nova-Thread-Id"
WAITING_MESSAGE = (
    "The agent is waiting for your answer (a question or an approval): answer it in the thread "
    "or with POST /api/v1/runs/{id}/answer."
)
# Official openai clients do not reconnect, so a stream cut at NOVA_SSE_MAX_LIFETIME_SECONDS says why.
LIFETIME_MESSAGE = (
    "The reply outlasted this connection's time limit and the stream was closed; "
    f"the thread ({THREAD_HEADER}) has the full answer."
)
REVOKED_MESSAGE = "This API token was revoked or its user suspended; the stream was closed."


@login_required
async def list_models(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        found = await agent_configs.agents_for_chat(session, current_user(request).id, app_context(request).settings)
    data = [{"id": a.slug, "object": "model", "created": int(a.created_at.timestamp()),
             "owned_by": "nova", "name": a.name} for a in found]  # fmt: skip
    return JSONResponse({"object": "list", "data": data})


@login_required
async def chat_completions(request: Request) -> Response:
    ctx, user_id = app_context(request), current_user(request).id
    try:
        chat = convert.parse_chat_request(await json_body(request))
        async with ctx.db.transaction() as session:  # one transaction: the first token waits on it
            thread_id = await _thread_for(session, ctx, request, user_id, chat)
            posted = await threads.post_message(
                session, ctx.settings, user_id, thread_id, chat.prompt, chat.model, extra_instructions=chat.system
            )
        await control.start(ctx, posted.run)
    except ValidationFailed as exc:
        return openai_error(400, "; ".join(exc.errors.values()), code="invalid_request")
    except NotFound:
        return openai_error(404, "No such thread.", code="thread_not_found")
    except Conflict as exc:
        return openai_error(409, str(exc), code="thread_busy")
    run_id = str(posted.run.id)
    headers = {THREAD_HEADER: str(thread_id), "X-Nova-Run-Id": run_id}
    events = ctx.events.follow(run_id)
    if chat.stream:
        frames = _stream_chunks(run_id, chat, events)
        return sse_response(
            request, frames, ctx.settings, headers=headers,
            farewell=_farewell(LIFETIME_MESSAGE, "stream_lifetime_exceeded"),
            revoked=_farewell(REVOKED_MESSAGE, "credentials_revoked"),
        )  # fmt: skip
    return await _wait_for_completion(run_id, chat, events, headers)


async def _thread_for(
    session: AsyncSession, ctx: AppContext, request: Request, user_id: uuid.UUID, chat: ChatRequest
) -> uuid.UUID:
    """The thread named by the header, or a new one holding the history sent along."""
    if chat.model not in {a.slug for a in await agent_configs.agents_for_chat(session, user_id, ctx.settings)}:
        raise ValidationFailed({"model": f"No agent “{chat.model}”; see GET /v1/models."})
    named = request.headers.get(THREAD_HEADER)
    if named:
        try:
            return (await threads.get_thread(session, user_id, uuid.UUID(named))).id
        except ValueError:
            raise NotFound(named) from None
    thread = await threads.create_thread(session, user_id, chat.prompt.splitlines()[0] if chat.prompt else "")
    await threads.import_history(session, thread, chat.history)
    return thread.id


async def _stream_chunks(
    run_id: str, chat: ChatRequest, events: AsyncIterator[RunEvent]
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
            yield frame(_error_body("The reply restarted after a failure; the thread has the full answer."))
            break
        elif event.type == EventType.RUN_FAILED:
            yield frame(_error_body(str(event.data.get("error", "The run failed."))))
            break
        elif event.type == EventType.RUN_WAITING:
            yield frame(_error_body(WAITING_MESSAGE))
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
    run_id: str, chat: ChatRequest, events: AsyncIterator[RunEvent], headers: dict[str, str]
) -> Response:
    async for event in events:
        if event.type == EventType.RUN_WAITING:
            response = openai_error(409, WAITING_MESSAGE, code="run_waiting")
            response.headers.update(headers)
            return response
        if event.type == EventType.RUN_FAILED:
            response = openai_error(502, str(event.data.get("error", "The run failed.")), code="run_failed")
            response.headers.update(headers)
            return response
        if event.terminal:
            return JSONResponse(convert.completion(run_id, chat.model, event), headers=headers)
    return openai_error(504, "The run ended without a result.")


routes = [
    Route("/v1/models", list_models, methods=["GET"], name="openai:models"),
    Route("/v1/chat/completions", chat_completions, methods=["POST"], name="openai:chat"),
]
