"""SQL for the admins' stdio MCP servers (system-wide: no owner)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AgentTool, SystemMcpServer


async def list_servers(session: AsyncSession) -> Sequence[SystemMcpServer]:
    return (await session.scalars(select(SystemMcpServer).order_by(SystemMcpServer.name))).all()


async def get_server(session: AsyncSession, server_id: uuid.UUID) -> SystemMcpServer | None:
    return await session.get(SystemMcpServer, server_id)


async def by_slug(session: AsyncSession, slug: str) -> SystemMcpServer | None:
    return await session.scalar(select(SystemMcpServer).where(SystemMcpServer.slug == slug))


async def by_name(session: AsyncSession, name: str) -> SystemMcpServer | None:
    return await session.scalar(select(SystemMcpServer).where(SystemMcpServer.name == name))


async def forget_agent_tools(session: AsyncSession, prefix: str) -> None:
    """Take the server's tools off every user's agents (a later server may reuse the slug)."""
    await session.execute(delete(AgentTool).where(AgentTool.tool_name.startswith(prefix, autoescape=True)))
