"""Agent rules: validation, unique slugs, the default agent every user gets."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.agent_configs import repository, toolset
from app.errors import NotFound, ValidationFailed, require
from app.models import Agent
from app.models.agent import DEFAULT_RECURSION_LIMIT
from app.providers import repository as providers
from app.settings import Settings

NumberT = TypeVar("NumberT", int, float)

DEFAULT_AGENT_NAME = "Nova"
DEFAULT_AGENT_INSTRUCTIONS = (
    "You are Nova, a helpful assistant. Answer clearly and concisely, and say so when you "
    "are not sure. Use your tools when they help: check the date before reasoning about "
    "time, search and read the web for current facts, run code for calculations, and save "
    "to memory what the user asks you to remember."
)


@dataclass(frozen=True)
class AgentInput:
    name: str
    instructions: str
    provider_id: str
    model: str
    temperature: str
    recursion_limit: str
    is_default: bool
    usable_as_tool: bool = False
    tool_description: str = ""

    @classmethod
    def from_form(cls, form: dict[str, str]) -> AgentInput:
        return cls(
            name=form.get("name", "").strip(),
            instructions=form.get("instructions", "").strip(),
            provider_id=form.get("provider_id", "").strip(),
            model=form.get("model", "").strip(),
            temperature=form.get("temperature", "").strip() or "0.7",
            recursion_limit=form.get("recursion_limit", "").strip() or str(DEFAULT_RECURSION_LIMIT),
            is_default=form.get("is_default") == "on",
            usable_as_tool=form.get("usable_as_tool") == "on",
            tool_description=form.get("tool_description", "").strip(),
        )


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "agent"


async def list_agents(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[Agent]:
    return await repository.list_agents(session, owner_id)


async def agents_for_chat(session: AsyncSession, owner_id: uuid.UUID, settings: Settings) -> Sequence[Agent]:
    """The agents that can answer this user, default first.

    The one place the default "Nova" agent is made: a user with no agent gets it as soon
    as a provider can serve it (their own, or a system provider).
    """
    agents = await repository.list_agents(session, owner_id)
    if not agents and await create_default_agent(session, owner_id, settings) is not None:
        agents = await repository.list_agents(session, owner_id)
    return agents


async def find_agent(session: AsyncSession, owner_id: uuid.UUID, ref: str, settings: Settings) -> Agent:
    """One of the user's agents by id or slug."""
    for agent in await agents_for_chat(session, owner_id, settings):
        if ref in (str(agent.id), agent.slug):
            return agent
    raise ValidationFailed({"agent": "Choose one of your agents."})


async def get_agent(session: AsyncSession, owner_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    agent = await repository.get_agent(session, owner_id, agent_id)
    if agent is None:
        raise NotFound(str(agent_id))
    return agent


async def create_agent(session: AsyncSession, owner_id: uuid.UUID, data: AgentInput) -> Agent:
    provider_id, model, temperature, limit = await _validate(session, owner_id, data, None)
    if data.is_default or await repository.count_agents(session, owner_id) == 0:
        await repository.clear_default(session, owner_id)
        is_default = True
    else:
        is_default = False
    agent = Agent(
        owner_id=owner_id,
        name=data.name,
        slug=await _unique_slug(session, owner_id, slugify(data.name)),
        instructions=data.instructions,
        provider_id=provider_id,
        model=model,
        temperature=temperature,
        recursion_limit=limit,
        is_default=is_default,
        usable_as_tool=data.usable_as_tool,
        tool_description=data.tool_description,
    )
    session.add(agent)
    await session.flush()
    return agent


async def update_agent(session: AsyncSession, owner_id: uuid.UUID, agent: Agent, data: AgentInput) -> Agent:
    """The slug stays as it was: integrations address agents by it."""
    provider_id, model, temperature, limit = await _validate(session, owner_id, data, agent)
    if data.is_default and not agent.is_default:
        await repository.clear_default(session, owner_id)
        agent.is_default = True
    agent.name = data.name
    agent.instructions = data.instructions
    agent.provider_id = provider_id
    agent.model = model
    agent.temperature = temperature
    agent.recursion_limit = limit
    agent.usable_as_tool = data.usable_as_tool
    agent.tool_description = data.tool_description
    return agent


async def delete_agent(session: AsyncSession, agent: Agent) -> None:
    await session.delete(agent)


async def create_default_agent(session: AsyncSession, owner_id: uuid.UUID, settings: Settings | None) -> Agent | None:
    """The "Nova" agent with the default tools; re-creating it resets an existing one."""
    usable = await providers.list_usable(session, owner_id)
    if not usable:
        return None
    provider = usable[0]
    agent = await repository.get_by_slug(session, owner_id, slugify(DEFAULT_AGENT_NAME))
    if agent is None:
        await repository.clear_default(session, owner_id)
        agent = Agent(owner_id=owner_id, name=DEFAULT_AGENT_NAME, slug=slugify(DEFAULT_AGENT_NAME),
                      is_default=True)  # fmt: skip
        session.add(agent)
    agent.instructions = DEFAULT_AGENT_INSTRUCTIONS
    agent.provider_id = agent.provider_id or provider.id
    agent.model = agent.model or provider.default_model
    agent.temperature = 0.7
    agent.recursion_limit = DEFAULT_RECURSION_LIMIT
    await session.flush()
    await toolset.set_tools(session, agent, await toolset.default_tools(session, owner_id, settings))
    return agent


async def _unique_slug(session: AsyncSession, owner_id: uuid.UUID, base: str) -> str:
    slug, counter = base, 2
    while await repository.get_by_slug(session, owner_id, slug) is not None:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


async def _validate(
    session: AsyncSession, owner_id: uuid.UUID, data: AgentInput, existing: Agent | None
) -> tuple[uuid.UUID, str, float, int]:
    errors: dict[str, str] = {}
    if not data.name or len(data.name) > 100:
        errors["name"] = "Give the agent a name of 1 to 100 characters."
    else:
        clash = await repository.get_by_name(session, owner_id, data.name)
        if clash is not None and clash is not existing:
            errors["name"] = "You already have an agent with this name."
    provider = None
    try:
        provider = await providers.get_usable(session, owner_id, uuid.UUID(data.provider_id))
    except ValueError:
        pass
    if provider is None:
        errors["provider_id"] = "Choose one of your providers."
    temperature = _number(data.temperature, float)
    if temperature is None or not 0 <= temperature <= 2:
        errors["temperature"] = "Enter a temperature between 0 and 2."
    limit = _number(data.recursion_limit, int)
    if limit is None or not 1 <= limit <= 200:
        errors["recursion_limit"] = "Enter a whole number of steps between 1 and 200."
    if len(data.model) > 200:
        errors["model"] = "Model names are at most 200 characters."
    if data.usable_as_tool and not data.tool_description:
        errors["tool_description"] = "Describe what this agent does, so other agents know when to ask it."
    require(errors)
    assert provider is not None and temperature is not None and limit is not None
    return provider.id, data.model or provider.default_model, temperature, limit


def _number(text: str, kind: type[NumberT]) -> NumberT | None:
    try:
        return kind(text)
    except ValueError:
        return None
