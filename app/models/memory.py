"""Long-term notes an agent keeps for its user, searchable across threads."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow


class Memory(IdMixin, CreatedMixin, Base):
    __tablename__ = "memories"
    __table_args__ = (
        Index("ix_memories_owner_created", "owner_id", "created_at"),
        # Full-text search on PostgreSQL; SQLite uses an FTS5 table kept by triggers.
        Index(
            "ix_memories_fts",
            func.to_tsvector("simple", "content"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
