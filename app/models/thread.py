"""Conversation threads and their messages."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow


class MessageRole(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class FinishReason(enum.StrEnum):
    """How an assistant message ended; errors are shown in the thread, never sent to models."""

    STOP = "stop"
    CANCELLED = "cancelled"
    ERROR = "error"
    # What was written before a restart of Nova cut the reply short (its run failed).
    INTERRUPTED = "interrupted"


class Thread(IdMixin, CreatedMixin, Base):
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_owner_updated", "owner_id", "updated_at"),
        # Thread search on PostgreSQL (titles here, contents on messages); SQLite keeps an FTS5
        # table, thread_search_fts, in step by triggers (migration 0015).
        Index("ix_threads_fts", text("to_tsvector('simple', title)"), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    # The user (or an integration) chose the title: a generated one never replaces it.
    title_by_user: Mapped[bool] = mapped_column(default=False)
    # The agent last picked in this thread, preselected in the composer.
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Pinned threads head the sidebar; archived ones leave it (the Archived page lists them).
    pinned: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)


class Message(IdMixin, CreatedMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_created", "thread_id", "created_at"),
        Index("ix_messages_fts", text("to_tsvector('simple', content)"), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    role: Mapped[MessageRole] = mapped_column(
        Enum(
            MessageRole,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    content: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    # Unique: a run's reply is persisted exactly once, whatever retries happen.
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), unique=True)
    finish_reason: Mapped[FinishReason | None] = mapped_column(
        Enum(
            FinishReason,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
