"""An agent's tools and sub-agents: choosing them, refusing cycles, the defaults."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.agent_configs import repository as agents
from app.agents.tools.catalog import DEFAULT_AGENT_TOOLS, ToolSpec
from app.errors import ValidationFailed
from app.models import Agent
from app.settings import Settings
from app.tool_settings import repository
from app.tool_settings.sandboxes import available_sandbox


def chosen_tools(form: dict[str, list[str]], specs: Sequence[ToolSpec]) -> dict[str, bool]:
    """Tool name → ask first, from the agent form's checkboxes."""
    names = {spec.name for spec in specs}
    picked = [n for n in form.get("tools", []) if n in names]
    # A whole MCP server (`mcp:<slug>:*`) covers its single tools: the model must not get one twice.
    whole = tuple(n.removesuffix("*") for n in picked if n.endswith(":*"))
    picked = [n for n in picked if n.endswith(":*") or not n.startswith(whole)]
    ask_first = set(form.get("ask_first", []))
    return {name: name in ask_first for name in picked}


async def set_tools(session: AsyncSession, agent: Agent, tools: dict[str, bool]) -> None:
    await repository.replace_agent_tools(session, agent.id, tools)


async def set_subagents(session: AsyncSession, owner_id: uuid.UUID, agent: Agent, child_ids: Sequence[str]) -> None:
    """Sub-agents must be the owner's, usable as tools, and never lead back to the agent."""
    children: list[uuid.UUID] = []
    for raw in child_ids:
        try:
            child = await agents.get_agent(session, owner_id, uuid.UUID(raw))
        except ValueError:
            child = None
        if child is None or not child.usable_as_tool or child.id == agent.id:
            raise ValidationFailed({"subagents": "Choose your own agents marked “usable as a tool”."})
        children.append(child.id)
    if await _would_cycle(session, owner_id, agent.id, children):
        raise ValidationFailed({"subagents": "That would make agents call each other in a circle."})
    await repository.replace_subagents(session, agent.id, children)


async def _would_cycle(session: AsyncSession, owner_id: uuid.UUID, agent_id: uuid.UUID,
                       children: Sequence[uuid.UUID]) -> bool:  # fmt: skip
    owned = [a.id for a in await agents.list_agents(session, owner_id)]
    edges: dict[uuid.UUID, list[uuid.UUID]] = {}
    for edge in await repository.all_subagent_edges(session, owned):
        if edge.agent_id != agent_id:
            edges.setdefault(edge.agent_id, []).append(edge.subagent_id)
    edges[agent_id] = list(children)
    seen: set[uuid.UUID] = set()
    stack = list(children)
    while stack:
        current = stack.pop()
        if current == agent_id:
            return True
        if current not in seen:
            seen.add(current)
            stack.extend(edges.get(current, []))
    return False


async def default_tools(session: AsyncSession, owner_id: uuid.UUID, settings: Settings | None) -> dict[str, bool]:
    """The default agent's tools: each only if it can work for this user now."""
    configured = {row.group for row in await repository.settings_for(session, owner_id)}
    available = set(DEFAULT_AGENT_TOOLS)
    if not (settings and settings.searxng_url) and "web_search" not in configured:
        available.discard("web_search")
    if settings is None or available_sandbox(settings) is None:
        available.discard("python_exec")
    if "calendar" not in configured:
        available -= {n for n in available if n.startswith("calendar_")}
    return {name: name == "calendar_create_event" for name in DEFAULT_AGENT_TOOLS if name in available}
