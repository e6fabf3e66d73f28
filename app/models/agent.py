"""Agents: a named set of instructions, a provider and model, and run limits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow

DEFAULT_RECURSION_LIMIT = 25


class Agent(IdMixin, CreatedMixin, Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("owner_id", "slug"), UniqueConstraint("owner_id", "name"))

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100))
    instructions: Mapped[str] = mapped_column(Text, default="")
    # SET NULL: deleting a provider leaves its agents in place, marked as needing one.
    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("providers.id", ondelete="SET NULL"))
    model: Mapped[str] = mapped_column(String(200))
    temperature: Mapped[float] = mapped_column(default=0.7)
    recursion_limit: Mapped[int] = mapped_column(default=DEFAULT_RECURSION_LIMIT)
    is_default: Mapped[bool] = mapped_column(default=False)
    # Other agents may call this one as a tool, described to them by tool_description.
    usable_as_tool: Mapped[bool] = mapped_column(default=False)
    tool_description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
