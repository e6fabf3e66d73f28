"""/api/v1 runs: post a message (starts a run), read it, cancel it, stream its events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.errors import Conflict, ThreadBusy, ValidationFailed
from app.events import RunEvent
from app.idempotency import service as idempotency
from app.models import Run
from app.runs import control, service
from app.runs import repository as run_repository
from app.runs.streaming import open_run_stream
from app.threads import service as threads
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.json import json_body
from app.web.sse import resume_after, sse_response


def run_json(run: Run, reply: dict[str, Any] | None) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    usage = None
    if run.completion_tokens is not None:
        usage = {"prompt_tokens": run.prompt_tokens, "completion_tokens": run.completion_tokens}
    return {
        "id": str(run.id),
        "thread_id": str(run.thread_id),
        "agent_id": str(run.agent_id) if run.agent_id else None,
        "status": run.status.value,
        "error": run.error,
        "attempts": run.attempts,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "first_token_at": iso(run.first_token_at),
        "finished_at": iso(run.finished_at),
        "usage": usage,
        "waiting_for": (run.pending or {}).get("request") if run.status.value == "waiting" else None,
        "waiting_until": iso(run.waiting_until),
        "message": reply,
    }


async def _run_payload(request: Request, run_id: uuid.UUID) -> dict[str, Any]:
    async with app_context(request).db.transaction() as session:
        run = await service.get_run(session, current_user(request).id, run_id)
        reply = await run_repository.reply_for(session, run.id)
    message = None
    if reply is not None:
        finish = reply.finish_reason.value if reply.finish_reason else None
        message = {"id": str(reply.id), "content": reply.content, "finish_reason": finish}
    return run_json(run, message)


@login_required
async def post_message(request: Request) -> Response:
    body = await json_body(request)
    content, agent, model = body.get("content"), body.get("agent"), body.get("model")
    if not isinstance(content, str) or any(v is not None and not isinstance(v, str) for v in (agent, model)):
        raise ValidationFailed({"content": 'Send {"content": "..."} with an optional agent slug and model.'})
    ctx, thread_id, user_id = app_context(request), request.path_params["thread_id"], current_user(request).id
    key = request.headers.get(idempotency.HEADER)
    async with ctx.db.transaction() as session:
        record = await idempotency.claim_request(session, user_id, key, "POST", request.url.path, body)
        if isinstance(record, idempotency.Replay):
            return JSONResponse(record.response, record.status_code)
        try:
            posted = await threads.post_message(session, ctx.settings, user_id, thread_id, content, agent, model=model)
        except ThreadBusy as exc:
            raise Conflict(service.api_busy_message(exc.run_id)) from None
        await control.admit_start(ctx, user_id)
        payload = {"thread_id": str(thread_id), "message_id": str(posted.message.id), "run_id": str(posted.run.id)}
        idempotency.remember(record, 201, payload, posted.run.id)
    await control.start(ctx, posted.run)
    return JSONResponse(payload, status_code=201)


@login_required
async def get_run(request: Request) -> Response:
    return JSONResponse(await _run_payload(request, request.path_params["run_id"]))


@login_required
async def cancel_run(request: Request) -> Response:
    run_id: uuid.UUID = request.path_params["run_id"]
    await control.stop(app_context(request), current_user(request).id, run_id)
    return JSONResponse(await _run_payload(request, run_id), status_code=202)


@login_required
async def answer_run(request: Request) -> Response:
    """Answer a paused run: {"answer": "..."} to a question, {"approve": true|false} to an approval."""
    run_id: uuid.UUID = request.path_params["run_id"]
    async with app_context(request).db.transaction() as session:
        await service.get_run(session, current_user(request).id, run_id)  # 404 before any 422
    body = await json_body(request)
    if isinstance(body.get("approve"), bool):
        value: Any = {"approved": body["approve"]}
    elif isinstance(body.get("answer"), str) and body["answer"].strip():
        value = body["answer"].strip()
    else:
        raise ValidationFailed({"answer": 'Send {"answer": "..."} or {"approve": true|false}.'})
    await control.answer(app_context(request), current_user(request).id, run_id, value)
    return JSONResponse(await _run_payload(request, run_id), status_code=202)


@login_required
async def run_events(request: Request) -> Response:
    ctx = app_context(request)
    opened = await open_run_stream(ctx, current_user(request).id, request.path_params["run_id"], resume_after(request))
    if opened.events is None:
        return Response(status_code=204)
    return sse_response(request, _json_frames(str(opened.run.id), opened.events), ctx.settings)


async def _json_frames(run_id: str, events: AsyncIterator[RunEvent]) -> AsyncIterator[ServerSentEvent]:
    import json

    async for event in events:
        payload = {"id": event.id or None, "type": event.type, "run_id": run_id, **event.data}
        yield ServerSentEvent(
            json.dumps(payload, separators=(",", ":")), event=event.type,
            id=str(event.id) if event.id else None,
        )  # fmt: skip


routes = [
    Route("/api/v1/threads/{thread_id:uuid}/messages", post_message, methods=["POST"],
          name="api:post_message"),
    Route("/api/v1/runs/{run_id:uuid}", get_run, methods=["GET"], name="api:run"),
    Route("/api/v1/runs/{run_id:uuid}/cancel", cancel_run, methods=["POST"], name="api:cancel_run"),
    Route("/api/v1/runs/{run_id:uuid}/events", run_events, methods=["GET"], name="api:run_events"),
    Route("/api/v1/runs/{run_id:uuid}/answer", answer_run, methods=["POST"], name="api:answer_run"),
]  # fmt: skip
