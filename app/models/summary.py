"""Summaries of a thread's earlier messages, made when its conversation outgrew the model's window.

A summary covers the branch from the thread's first message down to `covers_message_id`.
Messages never change (an edit is a new sibling), so it holds for every branch that passes
through that message, and for no other: a run reuses the one furthest down its own branch.
Deleting the message deletes the summaries that reach it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin


class ThreadSummary(IdMixin, CreatedMixin, Base):
    __tablename__ = "thread_summaries"

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    # The last message summarized; one summary per message (a later one extends it, further down).
    covers_message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    # How many messages it stands for (the page says so).
    message_count: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))  # which wrote it
