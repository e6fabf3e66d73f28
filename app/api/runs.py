"""/api/v1 runs: post a message (starts a run), list and read runs, cancel, answer, stream events."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sse_starlette import ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.common import ListQuery, id_text
from app.errors import Conflict, ThreadBusy, ValidationFailed
from app.events import RunEvent
from app.idempotency import service as idempotency
from app.models import Run, RunStatus
from app.runs import control, service
from app.runs import repository as run_repository
from app.runs.streaming import open_run_stream
from app.threads import service as threads
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.json import json_body
from app.web.openapi import RequestModel, operation, parse_body, parse_query, respond, validate
from app.web.sse import resume_after, sse_response

TAG = "Runs"


class PostMessage(RequestModel):
    content: str = Field(min_length=1, max_length=100_000)
    agent: str | None = Field(None, max_length=100, description="An agent's slug or id; else the thread's agent.")
    model: str | None = Field(None, max_length=200, description="Another model of the agent's provider.")
    files: list[uuid.UUID] | None = Field(
        None, max_length=10, description="Ids of your uploaded files (POST /api/v1/files) to send with the message."
    )


class Posted(BaseModel):
    thread_id: str
    message_id: str
    run_id: str


class Usage(BaseModel):
    prompt_tokens: int | None
    completion_tokens: int | None


class Reply(BaseModel):
    id: str
    content: str
    finish_reason: str | None


class RunOut(BaseModel):
    id: str
    thread_id: str
    agent_id: str | None
    status: RunStatus
    error: str | None
    attempts: int
    created_at: datetime | None
    started_at: datetime | None
    first_token_at: datetime | None
    finished_at: datetime | None
    usage: Usage | None
    waiting_for: dict[str, Any] | None = Field(description="What a waiting run asks: a question or an approval.")
    waiting_until: datetime | None
    message: Reply | None = Field(description="The reply, once there is one.")


class RunList(BaseModel):
    data: list[RunOut]
    next_cursor: str | None
    has_more: bool


class RunsQuery(ListQuery):
    thread_id: uuid.UUID | None = None
    status: RunStatus | None = None


class Answer(RequestModel):
    """`answer` for a question, `approve` for an approval."""

    answer: str | None = Field(None, max_length=100_000)
    approve: bool | None = None


def run_out(run: Run, reply: Reply | None) -> RunOut:
    usage = None
    if run.completion_tokens is not None:
        usage = Usage(prompt_tokens=run.prompt_tokens, completion_tokens=run.completion_tokens)
    waiting = run.status == RunStatus.WAITING
    return RunOut(
        id=str(run.id), thread_id=str(run.thread_id), agent_id=id_text(run.agent_id), status=run.status,
        error=run.error, attempts=run.attempts, created_at=run.created_at, started_at=run.started_at,
        first_token_at=run.first_token_at, finished_at=run.finished_at, usage=usage,
        waiting_for=(run.pending or {}).get("request") if waiting else None,
        waiting_until=run.waiting_until, message=reply,
    )  # fmt: skip


async def _run_payload(request: Request, run_id: uuid.UUID) -> RunOut:
    async with app_context(request).db.transaction() as session:
        run = await service.get_run(session, current_user(request).id, run_id)
        found = await run_repository.reply_for(session, run.id)
    reply = None
    if found is not None:
        finish = found.finish_reason.value if found.finish_reason else None
        reply = Reply(id=str(found.id), content=found.content, finish_reason=finish)
    return run_out(run, reply)


@login_required
@operation(summary="Post a message to a thread: starts the run that answers it", tag=TAG, scope="write",
           body=PostMessage, responses={201: Posted}, problems=(409, 503), idempotency_key=True)  # fmt: skip
async def post_message(request: Request) -> Response:
    ctx, thread_id, user_id = app_context(request), request.path_params["thread_id"], current_user(request).id
    # The body is checked before the thread (one transaction less on the hot path): a 422
    # for a malformed body says nothing about whether the thread exists.
    raw = await json_body(request)
    body = validate(PostMessage, raw)
    key = request.headers.get(idempotency.HEADER)
    async with ctx.db.transaction() as session:
        record = await idempotency.claim_request(session, user_id, key, "POST", request.url.path, raw)
        if isinstance(record, idempotency.Replay):
            return JSONResponse(record.response, record.status_code)
        try:
            posted = await threads.post_message(session, ctx.settings, user_id, thread_id, body.content, body.agent,
                                                model=body.model, file_ids=body.files or ())  # fmt: skip
        except ThreadBusy as exc:
            raise Conflict(service.api_busy_message(exc.run_id)) from None
        await control.admit_start(ctx, user_id)
        payload = Posted(thread_id=str(thread_id), message_id=str(posted.message.id), run_id=str(posted.run.id))
        idempotency.remember(record, 201, payload.model_dump(mode="json"), posted.run.id)
    await control.start(ctx, posted.run)
    return respond(payload, 201)


@login_required
@operation(summary="List your runs, newest first", tag=TAG, scope="read", query=RunsQuery, responses={200: RunList})
async def list_runs(request: Request) -> Response:
    query = parse_query(request, RunsQuery)
    async with app_context(request).db.transaction() as session:
        page = await service.runs_after(session, current_user(request).id, query.cursor, query.limit,
                                        query.thread_id, query.status)  # fmt: skip
    data = [run_out(run, None) for run in page.items]
    return respond(RunList(data=data, next_cursor=page.next_cursor, has_more=bool(page.next_cursor)))


@login_required
@operation(summary="Get a run, with its reply once there is one", tag=TAG, scope="read", responses={200: RunOut})
async def get_run(request: Request) -> Response:
    return respond(await _run_payload(request, request.path_params["run_id"]))


@login_required
@operation(summary="Stop a run", tag=TAG, scope="write", responses={202: RunOut}, problems=(409,))
async def cancel_run(request: Request) -> Response:
    run_id: uuid.UUID = request.path_params["run_id"]
    await control.stop(app_context(request), current_user(request).id, run_id)
    return respond(await _run_payload(request, run_id), 202)


@login_required
@operation(summary="Answer a waiting run's question or approval", tag=TAG, scope="write", body=Answer,
           responses={202: RunOut}, problems=(409,))  # fmt: skip
async def answer_run(request: Request) -> Response:
    run_id: uuid.UUID = request.path_params["run_id"]
    async with app_context(request).db.transaction() as session:
        await service.get_run(session, current_user(request).id, run_id)  # 404 before any 422
    body = await parse_body(request, Answer)
    value: Any
    if body.approve is not None:
        value = {"approved": body.approve}
    elif body.answer and body.answer.strip():
        value = body.answer.strip()
    else:
        raise ValidationFailed({"answer": 'Send {"answer": "..."} or {"approve": true|false}.'})
    await control.answer(app_context(request), current_user(request).id, run_id, value)
    return respond(await _run_payload(request, run_id), 202)


@login_required
@operation(summary="Follow a run's events (server-sent events; resume with Last-Event-ID)", tag=TAG, scope="read",
           responses={200: None, 204: None}, stream_status=200,
           description="Each event's data is a JSON object with `type` and `run_id`. 204: the run has ended "
                       "and there is nothing after Last-Event-ID.")  # fmt: skip
async def run_events(request: Request) -> Response:
    ctx = app_context(request)
    opened = await open_run_stream(ctx, current_user(request).id, request.path_params["run_id"], resume_after(request))
    if opened.events is None:
        return Response(status_code=204)
    return sse_response(request, _json_frames(str(opened.run.id), opened.events), ctx.settings)


async def _json_frames(run_id: str, events: AsyncIterator[RunEvent]) -> AsyncIterator[ServerSentEvent]:
    async for event in events:
        payload = {"id": event.id or None, "type": event.type, "run_id": run_id, **event.data}
        yield ServerSentEvent(
            json.dumps(payload, separators=(",", ":")), event=event.type,
            id=str(event.id) if event.id else None,
        )  # fmt: skip


routes = [
    Route("/api/v1/threads/{thread_id:uuid}/messages", post_message, methods=["POST"],
          name="api:post_message"),
    Route("/api/v1/runs", list_runs, methods=["GET"], name="api:runs"),
    Route("/api/v1/runs/{run_id:uuid}", get_run, methods=["GET"], name="api:run"),
    Route("/api/v1/runs/{run_id:uuid}/cancel", cancel_run, methods=["POST"], name="api:cancel_run"),
    Route("/api/v1/runs/{run_id:uuid}/events", run_events, methods=["GET"], name="api:run_events"),
    Route("/api/v1/runs/{run_id:uuid}/answer", answer_run, methods=["POST"], name="api:answer_run"),
]  # fmt: skip
