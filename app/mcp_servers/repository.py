"""SQL for MCP servers, always scoped to their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent, AgentTool, McpServer


async def list_servers(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[McpServer]:
    query = select(McpServer).where(McpServer.owner_id == owner_id).order_by(McpServer.name)
    return (await session.scalars(query)).all()


async def get_server(session: AsyncSession, owner_id: uuid.UUID, server_id: uuid.UUID) -> McpServer | None:
    query = select(McpServer).where(McpServer.id == server_id, McpServer.owner_id == owner_id)
    return await session.scalar(query)


async def by_slug(session: AsyncSession, owner_id: uuid.UUID, slug: str) -> McpServer | None:
    query = select(McpServer).where(McpServer.slug == slug, McpServer.owner_id == owner_id)
    return await session.scalar(query)


async def by_name(session: AsyncSession, owner_id: uuid.UUID, name: str) -> McpServer | None:
    query = select(McpServer).where(McpServer.name == name, McpServer.owner_id == owner_id)
    return await session.scalar(query)


async def forget_agent_tools(session: AsyncSession, owner_id: uuid.UUID, slug: str) -> None:
    """Take the server's tools off the owner's agents (a later server may reuse the slug)."""
    agents = select(Agent.id).where(Agent.owner_id == owner_id)
    await session.execute(
        delete(AgentTool).where(
            AgentTool.agent_id.in_(agents), AgentTool.tool_name.startswith(f"mcp:{slug}:", autoescape=True)
        )
    )
