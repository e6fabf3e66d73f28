"""SQL for tool settings, agents' tools and sub-agents, and custom tools."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AgentSubagent, AgentTool, CustomTool, ToolSetting


async def settings_for(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[ToolSetting]:
    return (await session.scalars(select(ToolSetting).where(ToolSetting.owner_id == owner_id))).all()


async def setting(session: AsyncSession, owner_id: uuid.UUID, group: str) -> ToolSetting | None:
    return await session.get(ToolSetting, (owner_id, group))


async def agent_tools(session: AsyncSession, agent_id: uuid.UUID) -> Sequence[AgentTool]:
    return (await session.scalars(select(AgentTool).where(AgentTool.agent_id == agent_id))).all()


async def replace_agent_tools(session: AsyncSession, agent_id: uuid.UUID, tools: dict[str, bool]) -> None:
    await session.execute(delete(AgentTool).where(AgentTool.agent_id == agent_id))
    session.add_all(AgentTool(agent_id=agent_id, tool_name=name, ask_first=ask) for name, ask in tools.items())
    await session.flush()


async def subagent_ids(session: AsyncSession, agent_id: uuid.UUID) -> list[uuid.UUID]:
    query = select(AgentSubagent.subagent_id).where(AgentSubagent.agent_id == agent_id)
    return list((await session.scalars(query)).all())


async def all_subagent_edges(session: AsyncSession, agent_ids: Sequence[uuid.UUID]) -> Sequence[AgentSubagent]:
    query = select(AgentSubagent).where(AgentSubagent.agent_id.in_(agent_ids))
    return (await session.scalars(query)).all()


async def replace_subagents(session: AsyncSession, agent_id: uuid.UUID, children: Sequence[uuid.UUID]) -> None:
    await session.execute(delete(AgentSubagent).where(AgentSubagent.agent_id == agent_id))
    session.add_all(AgentSubagent(agent_id=agent_id, subagent_id=child) for child in children)
    await session.flush()


async def custom_tools(session: AsyncSession) -> Sequence[CustomTool]:
    return (await session.scalars(select(CustomTool).order_by(CustomTool.dotted_path))).all()


async def custom_tool(session: AsyncSession, tool_id: uuid.UUID) -> CustomTool | None:
    return await session.get(CustomTool, tool_id)
