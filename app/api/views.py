"""/api/v1: who am I, my agents, my threads."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.agent_configs import service as agent_configs
from app.errors import ValidationFailed
from app.models import Agent, Thread
from app.threads import service as threads
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.json import json_body
from app.web.params import page_number


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
        "created_at": thread.created_at.isoformat(),
        "updated_at": thread.updated_at.isoformat(),
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
    async with ctx.db.transaction() as session:
        agent = await agent_configs.find_agent(session, user_id, agent_ref, ctx.settings) if agent_ref else None
        thread = await threads.create_thread(session, user_id, title)
        thread.agent_id = agent.id if agent else None
    return JSONResponse(thread_json(thread) | {"agent_id": str(agent.id) if agent else None}, 201)


routes = [
    Route("/api/v1/me", me, methods=["GET"], name="api:me"),
    Route("/api/v1/agents", list_agents, methods=["GET"], name="api:agents"),
    Route("/api/v1/threads", list_threads, methods=["GET"], name="api:threads"),
    Route("/api/v1/threads", create_thread, methods=["POST"], name="api:create_thread"),
]
