"""/api/v1 agents: list, get, create, update, delete, with their tools and sub-agents."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.agent_configs import service, toolset
from app.agent_configs.service import AgentInput
from app.api.common import id_text, idempotent_create
from app.errors import ValidationFailed
from app.models import Agent
from app.models.agent import DEFAULT_RECURSION_LIMIT
from app.tool_settings import repository as tool_rows
from app.tool_settings import service as tools
from app.web.auth import current_user, login_required
from app.web.deps import app_context
from app.web.json import json_body
from app.web.openapi import RequestModel, operation, parse_body, respond, validate

TAG = "Agents"


class ToolChoice(BaseModel):
    name: str = Field(max_length=100, description="A tool's name from the catalog (see the Tools page).")
    ask_first: bool = Field(False, description="Pause for the user's approval before each call.")


class AgentOut(BaseModel):
    id: str
    slug: str
    name: str
    instructions: str
    provider_id: str | None
    model: str
    temperature: float
    recursion_limit: int
    is_default: bool
    usable_as_tool: bool
    tool_description: str
    tools: list[ToolChoice]
    subagents: list[str] = Field(description="Ids of the agents this one may call as tools.")
    created_at: datetime
    updated_at: datetime


class AgentList(BaseModel):
    data: list[AgentOut]


class AgentFields(RequestModel):
    instructions: str = Field("", max_length=100_000)
    provider_id: uuid.UUID | None = Field(None, description="One of your providers or a system one.")
    model: str = Field("", max_length=200, description="Empty: the provider's default model.")
    temperature: float = Field(0.7, ge=0, le=2)
    recursion_limit: int = Field(DEFAULT_RECURSION_LIMIT, ge=1, le=200)
    is_default: bool = False
    usable_as_tool: bool = False
    tool_description: str = Field("", max_length=1000)
    tools: list[ToolChoice] = Field(default_factory=list, max_length=100)
    subagents: list[uuid.UUID] = Field(default_factory=list, max_length=100)


class AgentCreate(AgentFields):
    name: str = Field(min_length=1, max_length=100)
    provider_id: uuid.UUID = Field(description="One of your providers or a system one.")


class AgentUpdate(RequestModel):
    """Only the fields sent change."""

    name: str | None = Field(None, min_length=1, max_length=100)
    instructions: str | None = Field(None, max_length=100_000)
    provider_id: uuid.UUID | None = None
    model: str | None = Field(None, max_length=200)
    temperature: float | None = Field(None, ge=0, le=2)
    recursion_limit: int | None = Field(None, ge=1, le=200)
    is_default: bool | None = None
    usable_as_tool: bool | None = None
    tool_description: str | None = Field(None, max_length=1000)
    tools: list[ToolChoice] | None = Field(None, max_length=100)
    subagents: list[uuid.UUID] | None = Field(None, max_length=100)


async def agent_out(session: AsyncSession, agent: Agent) -> AgentOut:
    enabled = await tool_rows.agent_tools(session, agent.id)
    children = await tool_rows.subagent_ids(session, agent.id)
    return AgentOut(
        id=str(agent.id), slug=agent.slug, name=agent.name, instructions=agent.instructions,
        provider_id=id_text(agent.provider_id), model=agent.model, temperature=agent.temperature,
        recursion_limit=agent.recursion_limit, is_default=agent.is_default, usable_as_tool=agent.usable_as_tool,
        tool_description=agent.tool_description,
        tools=[ToolChoice(name=t.tool_name, ask_first=t.ask_first) for t in enabled],
        subagents=[str(c) for c in children], created_at=agent.created_at, updated_at=agent.updated_at,
    )  # fmt: skip


def _input(fields: AgentFields | AgentUpdate, name: str, current: Agent | None) -> AgentInput:
    """The service's form-shaped input: what was sent, else what the agent has."""

    def pick(value: object, kept: object, default: object) -> str:
        chosen = value if value is not None else (kept if current is not None else default)
        return "" if chosen is None else str(chosen)

    def flag(value: bool | None, kept: bool) -> bool:
        return value if value is not None else kept

    return AgentInput(
        name=name,
        instructions=pick(fields.instructions, current and current.instructions, ""),
        provider_id=pick(fields.provider_id, current and current.provider_id, ""),
        model=pick(fields.model, current and current.model, ""),
        temperature=pick(fields.temperature, current and current.temperature, 0.7),
        recursion_limit=pick(fields.recursion_limit, current and current.recursion_limit, DEFAULT_RECURSION_LIMIT),
        is_default=flag(fields.is_default, bool(current and current.is_default)),
        usable_as_tool=flag(fields.usable_as_tool, bool(current and current.usable_as_tool)),
        tool_description=pick(fields.tool_description, current and current.tool_description, ""),
    )


async def _apply_tools(
    session: AsyncSession, user_id: uuid.UUID, agent: Agent, fields: AgentFields | AgentUpdate
) -> None:
    if fields.tools is not None:
        known = {spec.name for spec in await tools.catalog(session)}
        unknown = sorted({t.name for t in fields.tools} - known)
        if unknown:
            raise ValidationFailed({"tools": f"No such tool: {', '.join(unknown)}."})
        await toolset.set_tools(session, agent, {t.name: t.ask_first for t in fields.tools})
    if fields.subagents is not None:
        await toolset.set_subagents(session, user_id, agent, [str(child) for child in fields.subagents])


@login_required
@operation(summary="List your agents", tag=TAG, scope="read", responses={200: AgentList})
async def list_agents(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        # As in the chat: a user with a usable provider and no agent gets the default one here.
        agents = await service.agents_for_chat(session, current_user(request).id, app_context(request).settings)
        data = [await agent_out(session, agent) for agent in agents]
    return respond(AgentList(data=data))


@login_required
@operation(summary="Get an agent", tag=TAG, scope="read", responses={200: AgentOut})
async def get_agent(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, current_user(request).id, request.path_params["agent_id"])
        answer = await agent_out(session, agent)
    return respond(answer)


@login_required
@operation(summary="Create an agent", tag=TAG, scope="write", body=AgentCreate, responses={201: AgentOut},
           idempotency_key=True)  # fmt: skip
async def create_agent(request: Request) -> Response:
    raw = await json_body(request)
    body = validate(AgentCreate, raw)
    user_id = current_user(request).id

    async def create(session: AsyncSession) -> AgentOut:
        agent = await service.create_agent(session, user_id, _input(body, body.name.strip(), None))
        await _apply_tools(session, user_id, agent, body)
        return await agent_out(session, agent)

    return await idempotent_create(request, raw, create)


@login_required
@operation(summary="Change an agent", tag=TAG, scope="write", body=AgentUpdate, responses={200: AgentOut})
async def update_agent(request: Request) -> Response:
    user_id = current_user(request).id
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, user_id, request.path_params["agent_id"])
        body = await parse_body(request, AgentUpdate)  # after the lookup: another's id is a 404, never a 422
        await service.update_agent(session, user_id, agent, _input(body, (body.name or agent.name).strip(), agent))
        await _apply_tools(session, user_id, agent, body)
        await session.flush()
        answer = await agent_out(session, agent)
    return respond(answer)


@login_required
@operation(summary="Delete an agent", tag=TAG, scope="write", responses={204: None})
async def delete_agent(request: Request) -> Response:
    async with app_context(request).db.transaction() as session:
        agent = await service.get_agent(session, current_user(request).id, request.path_params["agent_id"])
        await service.delete_agent(session, agent)
    return Response(status_code=204)


routes = [
    Route("/api/v1/agents", list_agents, methods=["GET"], name="api:agents"),
    Route("/api/v1/agents", create_agent, methods=["POST"], name="api:create_agent"),
    Route("/api/v1/agents/{agent_id:uuid}", get_agent, methods=["GET"], name="api:agent"),
    Route("/api/v1/agents/{agent_id:uuid}", update_agent, methods=["PATCH"], name="api:update_agent"),
    Route("/api/v1/agents/{agent_id:uuid}", delete_agent, methods=["DELETE"], name="api:delete_agent"),
]
