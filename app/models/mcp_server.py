"""MCP servers: users' own (address, encrypted credentials) and admins' stdio servers; tools as last listed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime


class McpServer(IdMixin, CreatedMixin, Base):
    __tablename__ = "mcp_servers"
    __table_args__ = (UniqueConstraint("owner_id", "slug"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Part of every tool's stored name (mcp:<slug>:<tool>), so it never changes.
    slug: Mapped[str] = mapped_column(String(40))
    transport: Mapped[str] = mapped_column(String(10))  # "http" (Streamable HTTP) or "sse"
    url: Mapped[str] = mapped_column(String(500))
    auth_kind: Mapped[str] = mapped_column(String(10), default="none")  # none, bearer, basic, headers
    # JSON of the secrets ({"token"}, {"username", "password"} or {"headers"}), Fernet-encrypted.
    auth_encrypted: Mapped[str | None] = mapped_column(Text)
    auth_hint: Mapped[str | None] = mapped_column(String(200))
    # The tools as the last "Test connection" listed them: [{name, description, input_schema}].
    tools: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    tools_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class SystemMcpServer(IdMixin, CreatedMixin, Base):
    """A stdio MCP server an admin set up for everyone: a program Nova starts for each call.

    No owner: every user may give its tools to their agents; only admins create or change it.
    """

    __tablename__ = "system_mcp_servers"
    __table_args__ = (UniqueConstraint("name"), UniqueConstraint("slug"))

    name: Mapped[str] = mapped_column(String(100))
    # Part of every tool's stored name (sysmcp:<slug>:<tool>), so it never changes.
    slug: Mapped[str] = mapped_column(String(40))
    # The program and its arguments: an argv list, never a shell line.
    command: Mapped[str] = mapped_column(String(500))
    args: Mapped[list[str]] = mapped_column(JSON)
    # The only environment the program gets (besides PATH, HOME, LANG): {name: value}, Fernet-encrypted.
    env_encrypted: Mapped[str | None] = mapped_column(Text)
    env_hint: Mapped[str | None] = mapped_column(String(1000))
    cwd: Mapped[str] = mapped_column(String(500))
    tools: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    tools_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
