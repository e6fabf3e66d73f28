"""The tools of one run: the agent's enabled tools and sub-agents, bound to this user."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.types import interrupt
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.runtime import stream_reply
from app.agents.spec import AgentSpec, EnabledTool, Turn, Usage
from app.agents.tools.catalog import BY_NAME, ToolSpec
from app.agents.tools.context import Emit, ToolContext, ToolEnvironment
from app.agents.tools.instrument import instrument, step_id
from app.context import AppContext
from app.egress import EgressPolicy
from app.files.store import ThreadFiles
from app.mcp_servers import service as mcp_servers
from app.memory.store import DatabaseMemory
from app.models import Agent
from app.providers import repository as providers
from app.providers.service import provider_config
from app.runs.effects import DatabaseEffects
from app.runs.subagent_steps import naming, under_call
from app.tool_settings import repository as tool_rows
from app.tool_settings import service as tool_settings
from app.tool_settings.sandboxes import available_sandbox


@dataclass(frozen=True)
class AgentNode:
    """An agent ready to run: its spec, and the agents it may call, down to the depth limit."""

    spec: AgentSpec
    slug: str
    description: str
    children: tuple[AgentNode, ...] = ()


@dataclass(frozen=True)
class UserTooling:
    owner_id: uuid.UUID
    timezone: str
    env: ToolEnvironment
    secrets: tuple[str, ...] = field(default_factory=tuple)
    # Tools admins registered by dotted path, by their model-facing name.
    custom: dict[str, ToolSpec] = field(default_factory=dict)
    # The run's thread: the file tools see its files only.
    thread_id: uuid.UUID | None = None


class AgentUnavailable(Exception):
    pass


async def load_agent(session: AsyncSession, ctx: AppContext, agent: Agent, depth: int,
                     extra_instructions: str | None = None, model: str | None = None) -> AgentNode:  # fmt: skip
    provider = await providers.get_usable(session, agent.owner_id, agent.provider_id) if agent.provider_id else None
    if provider is None:
        raise AgentUnavailable(f"The agent “{agent.name}” has no provider: choose one on the Agents page.")
    tools = tuple(EnabledTool(t.tool_name, t.ask_first) for t in await tool_rows.agent_tools(session, agent.id))
    children: list[AgentNode] = []
    if depth < ctx.settings.subagent_max_depth:
        for child_id in await tool_rows.subagent_ids(session, agent.id):
            child = await session.get(Agent, child_id)
            if child is not None and child.owner_id == agent.owner_id and child.usable_as_tool:
                children.append(await load_agent(session, ctx, child, depth + 1))
    allowlist = ctx.settings.egress_allowlist
    spec = AgentSpec(
        provider=provider_config(provider, ctx.secretbox, model or agent.model, allowlist=allowlist),
        instructions="\n\n".join(x for x in (agent.instructions, extra_instructions) if x),
        temperature=agent.temperature, recursion_limit=agent.recursion_limit, tools=tools, name=agent.name,
        stream_window_seconds=ctx.settings.stream_coalesce_ms / 1000,
    )  # fmt: skip
    return AgentNode(spec, agent.slug, agent.tool_description, tuple(children))


async def load_user_tooling(session: AsyncSession, ctx: AppContext, owner_id: uuid.UUID, timezone: str) -> UserTooling:
    stored = await tool_settings.load_settings(session, ctx.secretbox, owner_id)
    env = tool_settings.environment(ctx.settings, stored, available_sandbox(ctx.settings))
    secrets = tuple(v for group in stored.values() for k, v in group.items() if k == "password" and v)
    custom = {spec.name: spec for spec in await tool_settings.catalog(session) if spec.name not in BY_NAME}
    # MCP tools from each server's cached list; their credentials never appear in a step.
    for group in await mcp_servers.user_tools(session, ctx.secretbox, owner_id, ctx.db):
        custom.update((spec.name, spec) for spec in group.specs)
        secrets += mcp_servers.config(ctx.secretbox, group.server).secrets()
    return UserTooling(owner_id, timezone, env, secrets, custom)


async def _approve(step: dict[str, Any]) -> bool:
    answer = interrupt({"kind": "approval", **step})
    return bool(answer.get("approved")) if isinstance(answer, dict) else answer is True


async def _ask(request: dict[str, Any]) -> str:
    return str(interrupt({"kind": "question", **request}))


def egress_policy(ctx: AppContext) -> EgressPolicy:
    # Services the admin configured are allowed even on private addresses.
    return EgressPolicy.from_settings(
        ctx.settings.egress_allowlist, [ctx.settings.searxng_url, ctx.settings.judge0_url]
    )


def _tool_context(ctx: AppContext, user: UserTooling, run_id: uuid.UUID, emit: Emit, timeout: float) -> ToolContext:
    return ToolContext(
        user_id=user.owner_id, run_id=run_id, timezone=_zone(user.timezone), env=user.env,
        egress=egress_policy(ctx), memory=DatabaseMemory(ctx.db, user.owner_id), emit=emit,
        approve=_approve, ask=_ask, timeout_seconds=timeout, secrets=user.secrets,
        mcp_timeout_seconds=ctx.settings.mcp_timeout_seconds,
        effects=DatabaseEffects(ctx.db, run_id),
        files=ThreadFiles(ctx.db, ctx.storage, ctx.settings, user.owner_id, user.thread_id) if user.thread_id else None,
    )  # fmt: skip


def build_tools(ctx: AppContext, node: AgentNode, user: UserTooling, run_id: uuid.UUID, emit: Emit,
                *, parent: str | None = None, nested: bool = False) -> list[BaseTool]:  # fmt: skip
    """The agent's tools as the model sees them, each reporting its steps."""
    tool_ctx = _tool_context(ctx, user, run_id, emit, ctx.settings.tool_timeout_seconds)
    built: list[BaseTool] = []
    for enabled in node.spec.tools:
        spec = BY_NAME.get(enabled.name) or user.custom.get(enabled.name)
        if spec is None or spec.missing(user.env) is not None:
            continue  # shown as "needs setup" in the UI; the model never sees a broken tool
        needs_approval = spec.changes_things or enabled.ask_first
        if nested and (needs_approval or spec.name == "ask_user"):
            continue  # a sub-agent cannot pause the run for the user
        once = acts_once(spec)
        for tool in spec.build(tool_ctx):
            built.append(instrument(tool, tool_ctx, ask_first=needs_approval, parent=parent, once=once))
    for child in node.children:
        built.append(_subagent_tool(ctx, node, child, user, run_id, emit, parent))
    return built


# Tools that only read: a repeat does no harm. Every other tool (and any admin's) acts once.
READ_ONLY_TOOLS = frozenset({
    "datetime_now", "web_search", "web_fetch", "python_exec", "memory_search", "memory_list", "ask_user",
    "calendar_list_calendars", "calendar_list_events", "calendar_search_events", "calendar_show_event",
    "file_list", "file_read",
})  # fmt: skip


def acts_once(spec: ToolSpec) -> bool:
    return spec.changes_things or spec.name not in READ_ONLY_TOOLS


class SubagentArguments(BaseModel):
    request: str = Field(description="What you need from this agent, with all the context it needs.")


def _subagent_tool(ctx: AppContext, parent_node: AgentNode, child: AgentNode, user: UserTooling,
                   run_id: uuid.UUID, emit: Emit, parent: str | None) -> BaseTool:  # fmt: skip
    name = "ask_agent_" + re.sub(r"[^a-z0-9_]", "_", child.slug)[:50]
    # The sub-agent spends from the parent's step budget, never more.
    limit = min(child.spec.recursion_limit, parent_node.spec.recursion_limit)
    spec = replace(child.spec, recursion_limit=limit)

    async def delegate(request: str) -> str:
        call_id = step_id(name, {"request": request})
        tools = build_tools(ctx, AgentNode(spec, child.slug, child.description, child.children), user, run_id,
                            emit, parent=call_id, nested=True)  # fmt: skip
        nested = under_call(emit, call_id)  # its model calls go under this call in the trace
        parts = [p async for p in stream_reply(spec, [Turn("user", request)], tools=tools, emit=nested)
                 if isinstance(p, str)]  # fmt: skip
        return "".join(parts).strip() or f"{child.spec.name} gave no answer."

    tool = StructuredTool.from_function(
        coroutine=delegate, name=name, args_schema=SubagentArguments,
        description=f"Ask the agent “{child.spec.name}”: {child.description}",
    )  # fmt: skip
    # A sub-agent may take several tool calls: it gets five tool timeouts.
    named = naming(emit, name, child.spec.name)  # the call's steps say the agent's display name
    tool_ctx = _tool_context(ctx, user, run_id, named, ctx.settings.tool_timeout_seconds * 5)
    # Its own steps are not replayed: a sub-agent's answer counts as one effect.
    return instrument(tool, tool_ctx, parent=parent, once=True)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")


__all__ = [
    "AgentNode",
    "AgentUnavailable",
    "Usage",
    "UserTooling",
    "build_tools",
    "load_agent",
    "load_user_tooling",
]
