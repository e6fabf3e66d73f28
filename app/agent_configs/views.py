"""Agent pages: list, create, edit (tools, sub-agents), delete, re-create the default."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agent_configs import service, toolset
from app.agent_configs.service import AgentInput
from app.errors import ValidationFailed
from app.mcp_servers import service as mcp_servers
from app.models import Agent
from app.providers import service as providers
from app.tool_settings import repository as tool_rows
from app.tool_settings import service as tools
from app.tool_settings.sandboxes import available_sandbox
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.forms import read_form_lists
from app.web.htmx import redirect
from app.web.templates import render


async def _form_context(
    session: AsyncSession,
    request: Request,
    form: dict[str, Any],
    errors: dict[str, str],
    agent: Agent | None,
) -> dict[str, Any]:
    ctx, user_id = app_context(request), current_user(request).id
    env = tools.environment(ctx.settings, await tools.load_settings(session, ctx.secretbox, user_id),
                            available_sandbox(ctx.settings))  # fmt: skip
    candidates = [a for a in await service.list_agents(session, user_id)
                  if a.usable_as_tool and (agent is None or a.id != agent.id)]  # fmt: skip
    return {
        "form": form, "errors": errors, "agent": agent,
        "providers": await providers.list_usable(session, user_id),
        "tool_statuses": tools.statuses(await tools.catalog(session), env),
        "subagent_candidates": candidates,
        "mcp_groups": await mcp_servers.user_tools(session, ctx.secretbox, user_id),
    }  # fmt: skip


def _agent_id(request: Request) -> uuid.UUID:
    agent_id: uuid.UUID = request.path_params["agent_id"]
    return agent_id


@login_required
async def list_agents(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        agents = await service.agents_for_chat(session, current_user(request).id, ctx.settings)
        usable = await providers.list_usable(session, current_user(request).id)
        tool_names = {a.id: [t.tool_name for t in await tool_rows.agent_tools(session, a.id)] for a in agents}
    names = {p.id: p.name for p in usable}
    return render(
        request,
        "agent_configs/list.html",
        {"agents": agents, "provider_names": names, "tool_names": tool_names},
    )


@login_required
async def new_agent(request: Request) -> Response:
    form: dict[str, Any] = {"temperature": "0.7", "recursion_limit": "25", "tools": ["datetime_now"],
                            "ask_first": [], "subagents": []}  # fmt: skip
    async with app_context(request).db.transaction() as session:
        context = await _form_context(session, request, form, {}, None)
    if context["providers"]:
        form["provider_id"] = str(context["providers"][0].id)
    return render(request, "agent_configs/form.html", context)


async def _save(request: Request, agent_id: uuid.UUID | None) -> Response:
    form, lists = await read_form_lists(request)
    user_id = current_user(request).id
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, user_id, agent_id) if agent_id else None
        try:
            # Everything is validated before the first write, so a refusal changes nothing.
            data = AgentInput.from_form(form)
            groups = await mcp_servers.user_tools(session, app_context(request).secretbox, user_id)
            mcp_specs = [spec for group in groups for spec in group.specs]
            chosen = toolset.chosen_tools(lists, [*await tools.catalog(session), *mcp_specs])
            if agent is None:
                agent = await service.create_agent(session, user_id, data)
            else:
                await service.update_agent(session, user_id, agent, data)
            await toolset.set_subagents(session, user_id, agent, lists.get("subagents", []))
            await toolset.set_tools(session, agent, chosen)
        except ValidationFailed as exc:
            await session.rollback()
            form_values = {**form, "tools": lists.get("tools", []), "ask_first": lists.get("ask_first", []),
                           "subagents": lists.get("subagents", [])}  # fmt: skip
            kept = await service.get_agent(session, user_id, agent_id) if agent_id else None
            context = await _form_context(session, request, form_values, exc.errors, kept)
            return render(request, "agent_configs/form.html", context, status_code=400)
    return redirect(request, str(request.url_for("agent_configs:list")))


@login_required
async def create_agent(request: Request) -> Response:
    return await _save(request, None)


@login_required
async def update_agent(request: Request) -> Response:
    return await _save(request, _agent_id(request))


@login_required
async def edit_agent(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, current_user(request).id, _agent_id(request))
        enabled = await tool_rows.agent_tools(session, agent.id)
        form = {
            "name": agent.name, "instructions": agent.instructions,
            "provider_id": str(agent.provider_id or ""), "model": agent.model,
            "temperature": str(agent.temperature), "recursion_limit": str(agent.recursion_limit),
            "is_default": "on" if agent.is_default else "",
            "usable_as_tool": "on" if agent.usable_as_tool else "", "tool_description": agent.tool_description,
            "tools": [t.tool_name for t in enabled], "ask_first": [t.tool_name for t in enabled if t.ask_first],
            "subagents": [str(i) for i in await tool_rows.subagent_ids(session, agent.id)],
        }  # fmt: skip
        context = await _form_context(session, request, form, {}, agent)
    return render(request, "agent_configs/form.html", context)


@login_required
async def delete_agent(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, current_user(request).id, _agent_id(request))
        await service.delete_agent(session, agent)
    return redirect(request, str(request.url_for("agent_configs:list")))


@login_required
async def restore_default(request: Request) -> Response:
    ctx = app_context(request)
    async with ctx.db.transaction() as session:
        created = await service.create_default_agent(session, current_user(request).id, ctx.settings)
    if created is None:
        detail = "Set up a provider first: the default agent needs one."
        return render(request, "errors/error.html", {"status": 409, "title": "No provider yet", "detail": detail},
                      status_code=409)  # fmt: skip
    return redirect(request, str(request.url_for("agent_configs:list")))


routes = [
    Route("/agents", list_agents, methods=["GET"], name="agent_configs:list"),
    Route("/agents", create_agent, methods=["POST"], name="agent_configs:create"),
    Route("/agents/new", new_agent, methods=["GET"], name="agent_configs:new"),
    Route("/agents/default", restore_default, methods=["POST"], name="agent_configs:default"),
    Route("/agents/{agent_id:uuid}/edit", edit_agent, methods=["GET"], name="agent_configs:edit"),
    Route("/agents/{agent_id:uuid}", update_agent, methods=["POST"], name="agent_configs:update"),
    Route("/agents/{agent_id:uuid}/delete", delete_agent, methods=["POST"], name="agent_configs:delete"),
]
