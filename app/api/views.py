"""/api/v1: who am I, my agents, my threads and their messages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.agent_configs import service as agent_configs
from app.errors import NotFound, ValidationFailed
from app.idempotency import service as idempotency
from app.models import Agent, Message, Thread
from app.threads import service as threads
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.json import json_body
from app.web.params import page_number, query_id, query_number


def agent_json(agent: Agent) -> dict[str, object]:
    return {
        "id": str(agent.id),
        "slug": agent.slug,
        "name": agent.name,
        "model": agent.model,
        "is_default": agent.is_default,
    }


def thread_json(thread: Thread) -> dict[str, object]:
    return {
        "id": str(thread.id),
        "title": thread.title,
        "agent_id": str(thread.agent_id) if thread.agent_id else None,
        "created_at": thread.created_at.isoformat(),
        "updated_at": thread.updated_at.isoformat(),
    }


def message_json(message: Message) -> dict[str, object]:
    return {
        "id": str(message.id),
        "role": message.role.value,
        "content": message.content,
        "agent_id": str(message.agent_id) if message.agent_id else None,
        "run_id": str(message.run_id) if message.run_id else None,
        "finish_reason": message.finish_reason.value if message.finish_reason else None,
        "created_at": message.created_at.isoformat(),
    }


@login_required
async def me(request: Request) -> Response:
    user = current_user(request)
    return JSONResponse(
        {
            "id": str(user.id),
            "email": user.email,
            "is_admin": user.is_admin,
            "scope": user.token_scope,
        }
    )


@login_required
async def list_agents(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agents = await agent_configs.agents_for_chat(session, current_user(request).id, app_context(request).settings)
    return JSONResponse({"data": [agent_json(agent) for agent in agents]})


@login_required
async def list_threads(request: Request) -> Response:
    page = page_number(request)
    async with app_context(request).db.transaction() as session:
        result = await threads.list_threads(session, current_user(request).id, page)
    return JSONResponse(
        {
            "data": [thread_json(t) for t in result.threads],
            "page": result.page,
            "has_more": result.has_more,
        }
    )


@login_required
async def create_thread(request: Request) -> Response:
    body = await json_body(request)
    title = body.get("title") or threads.NEW_THREAD_TITLE
    agent_ref = body.get("agent")
    if not isinstance(title, str) or (agent_ref is not None and not isinstance(agent_ref, str)):
        raise ValidationFailed({"body": "title and agent must be strings."})
    ctx, user_id = app_context(request), current_user(request).id
    key = request.headers.get(idempotency.HEADER)
    async with ctx.db.transaction() as session:
        record = await idempotency.claim_request(session, user_id, key, "POST", request.url.path, body)
        if isinstance(record, idempotency.Replay):
            return JSONResponse(record.response, record.status_code)
        agent = await agent_configs.find_agent(session, user_id, agent_ref, ctx.settings) if agent_ref else None
        thread = await threads.create_thread(session, user_id, title)
        thread.agent_id = agent.id if agent else None
        payload = thread_json(thread)
        idempotency.remember(record, 201, payload, None)
    return JSONResponse(payload, 201)


@login_required
async def get_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
    return JSONResponse(thread_json(thread))


@login_required
async def update_thread(request: Request) -> Response:
    """Rename: {"title": "..."} (a title set here is never replaced by a generated one)."""
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
        title = (await json_body(request)).get("title")
        if not isinstance(title, str):
            raise ValidationFailed({"title": 'Send {"title": "..."}.'})
        await threads.rename_thread(session, thread, title)
        await session.flush()
        payload = thread_json(thread)
    return JSONResponse(payload)


@login_required
async def delete_thread(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
        await threads.delete_thread(session, thread)
    return Response(status_code=204)


@login_required
async def list_messages(request: Request) -> Response:
    """Newest page first: `data` oldest first; `next_cursor` is `?before=` for the page before."""
    before = query_id(request, "before")
    limit = query_number(request, "limit", 50, minimum=1, maximum=200)
    async with app_context(request).db.transaction() as session:
        thread = await threads.get_thread(session, current_user(request).id, request.path_params["thread_id"])
        try:
            page = await threads.message_page(session, thread, before, limit)
        except NotFound:
            raise ValidationFailed({"before": "No such message in this thread."}) from None
    cursor = str(page.older_than) if page.older_than else None
    return JSONResponse(
        {"data": [message_json(m) for m in page.messages], "next_cursor": cursor, "has_more": bool(cursor)}
    )


routes = [
    Route("/api/v1/me", me, methods=["GET"], name="api:me"),
    Route("/api/v1/agents", list_agents, methods=["GET"], name="api:agents"),
    Route("/api/v1/threads", list_threads, methods=["GET"], name="api:threads"),
    Route("/api/v1/threads", create_thread, methods=["POST"], name="api:create_thread"),
    Route("/api/v1/threads/{thread_id:uuid}", get_thread, methods=["GET"], name="api:thread"),
    Route("/api/v1/threads/{thread_id:uuid}", update_thread, methods=["PATCH"], name="api:update_thread"),
    Route("/api/v1/threads/{thread_id:uuid}", delete_thread, methods=["DELETE"], name="api:delete_thread"),
    Route("/api/v1/threads/{thread_id:uuid}/messages", list_messages, methods=["GET"], name="api:messages"),
]
