"""Agent pages: list, create, edit, delete, and re-create the default agent."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agent_configs import service
from app.agent_configs.service import AgentInput
from app.errors import ValidationFailed
from app.models import Agent
from app.providers import service as providers
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form
from app.web.htmx import redirect
from app.web.templates import render


async def _form_context(
    session: AsyncSession,
    request: Request,
    form: dict[str, Any],
    errors: dict[str, str],
    agent: Agent | None,
) -> dict[str, Any]:
    usable = await providers.list_usable(session, current_user(request).id)
    return {"form": form, "errors": errors, "agent": agent, "providers": usable}


def _agent_id(request: Request) -> uuid.UUID:
    agent_id: uuid.UUID = request.path_params["agent_id"]
    return agent_id


@login_required
async def list_agents(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agents = await service.list_agents(session, current_user(request).id)
        usable = await providers.list_usable(session, current_user(request).id)
    names = {p.id: p.name for p in usable}
    return render(request, "agents/list.html", {"agents": agents, "provider_names": names})


@login_required
async def new_agent(request: Request) -> Response:
    form = {"temperature": "0.7", "recursion_limit": "25"}
    async with app_context(request).db.transaction() as session:
        context = await _form_context(session, request, form, {}, None)
    if context["providers"]:
        form["provider_id"] = str(context["providers"][0].id)
    return render(request, "agents/form.html", context)


@login_required
async def create_agent(request: Request) -> Response:
    form = await read_form(request)
    async with app_context(request).db.transaction() as session:
        try:
            await service.create_agent(
                session, current_user(request).id, AgentInput.from_form(form)
            )
        except ValidationFailed as exc:
            context = await _form_context(session, request, form, exc.errors, None)
            return render(request, "agents/form.html", context, status_code=400)
    return redirect(request, str(request.url_for("agents:list")))


@login_required
async def edit_agent(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, current_user(request).id, _agent_id(request))
        form = {
            "name": agent.name,
            "instructions": agent.instructions,
            "provider_id": str(agent.provider_id or ""),
            "model": agent.model,
            "temperature": str(agent.temperature),
            "recursion_limit": str(agent.recursion_limit),
            "is_default": "on" if agent.is_default else "",
        }
        context = await _form_context(session, request, form, {}, agent)
    return render(request, "agents/form.html", context)


@login_required
async def update_agent(request: Request) -> Response:
    form = await read_form(request)
    user_id = current_user(request).id
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, user_id, _agent_id(request))
        try:
            # Validation runs before any change, so a refused form leaves the agent as it was.
            await service.update_agent(session, user_id, agent, AgentInput.from_form(form))
        except ValidationFailed as exc:
            context = await _form_context(session, request, form, exc.errors, agent)
            return render(request, "agents/form.html", context, status_code=400)
    return redirect(request, str(request.url_for("agents:list")))


@login_required
async def delete_agent(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, current_user(request).id, _agent_id(request))
        await service.delete_agent(session, agent)
    return redirect(request, str(request.url_for("agents:list")))


@login_required
async def restore_default(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        created = await service.ensure_default_agent(session, current_user(request).id)
    if created is None:
        return render(
            request,
            "errors/error.html",
            {
                "status": 409,
                "title": "Nothing to create",
                "detail": "You already have agents, or no provider is set up yet.",
            },
            status_code=409,
        )
    return redirect(request, str(request.url_for("agents:list")))


routes = [
    Route("/agents", list_agents, methods=["GET"], name="agents:list"),
    Route("/agents", create_agent, methods=["POST"], name="agents:create"),
    Route("/agents/new", new_agent, methods=["GET"], name="agents:new"),
    Route("/agents/default", restore_default, methods=["POST"], name="agents:default"),
    Route("/agents/{agent_id:uuid}/edit", edit_agent, methods=["GET"], name="agents:edit"),
    Route("/agents/{agent_id:uuid}", update_agent, methods=["POST"], name="agents:update"),
    Route("/agents/{agent_id:uuid}/delete", delete_agent, methods=["POST"], name="agents:delete"),
]
