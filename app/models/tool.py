"""Which tools an agent has, per-user tool settings, and admin-registered tools."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin


class AgentTool(Base):
    """A tool enabled on an agent; `ask_first` pauses for the user's approval before each call."""

    __tablename__ = "agent_tools"

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    tool_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    ask_first: Mapped[bool] = mapped_column(default=False)


class AgentSubagent(Base):
    """Another agent this agent may call as a tool."""

    __tablename__ = "agent_subagents"

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    subagent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)


class ToolSetting(Base):
    """A user's settings for one group of tools (e.g. their CalDAV account), encrypted."""

    __tablename__ = "tool_settings"

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group: Mapped[str] = mapped_column(String(50), primary_key=True)
    values_encrypted: Mapped[str] = mapped_column(Text)


class CustomTool(IdMixin, CreatedMixin, Base):
    """A tool an admin registered by dotted path (it is code, so admins only)."""

    __tablename__ = "custom_tools"

    dotted_path: Mapped[str] = mapped_column(String(300), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
