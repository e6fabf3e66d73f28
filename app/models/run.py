"""Runs: one agent reply to a thread, executed by a worker and streamed as events."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"  # paused for the user's answer or approval
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}
_ACTIVE = text("status IN ('queued', 'running', 'waiting')")


class Run(IdMixin, CreatedMixin, Base):
    __tablename__ = "runs"
    __table_args__ = (
        # At most one active run per thread, enforced by the database against races.
        Index(
            "uq_runs_active_thread",
            "thread_id",
            unique=True,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        ),
        Index("ix_runs_thread_created", "thread_id", "created_at"),
        Index("ix_runs_owner_status", "owner_id", "status"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=RunStatus.QUEUED,
    )
    error: Mapped[str | None] = mapped_column(Text)
    # Extra system instructions sent by an integration (OpenAI-compatible system messages).
    extra_instructions: Mapped[str | None] = mapped_column(Text)
    # The model the message asked for, instead of the agent's own (None: the agent's).
    model: Mapped[str | None] = mapped_column(String(200))
    # The request that started the run: its job logs under the same id (app/request_ids.py).
    request_id: Mapped[str | None] = mapped_column(String(128))
    # What an integration set for this reply: temperature, max_tokens, stop (and its `user`).
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    # When the run was handed to the job queue; a queued run without it waits for its
    # owner's turn (app/runs/admission.py).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_token_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the paused run asks (question or approval), and until when it waits.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    waiting_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reply so far, saved about every second while an embedded run streams: its event
    # log lives in memory, so after a restart this is what is left of the text (kept as an
    # interrupted reply). Cleared when the run ends.
    partial_text: Mapped[str | None] = mapped_column(Text)
    # The execution trace (model calls, tool calls, sub-agents), kept once the run ends.
    trace: Mapped[list[Any] | None] = mapped_column(JSON)
    prompt_tokens: Mapped[int | None] = mapped_column()
    completion_tokens: Mapped[int | None] = mapped_column()


class ToolEffect(Base):
    """A side-effecting tool call that happened: a repeat of the same call (a run resumed
    after its worker died) returns this output instead of acting twice."""

    __tablename__ = "tool_effects"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tool: Mapped[str] = mapped_column(String(100))
    output: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
