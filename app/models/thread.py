"""Conversation threads and their messages."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Enum, ForeignKey, Index, String, Text, Uuid, event, literal, select, text
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

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
    # The last message of the branch shown (edits and regenerations make branches): the
    # conversation on screen, and the history of the next run, is the path from the root to
    # it. No foreign key: threads and messages would point at each other (a cycle to create
    # and delete); deleting messages moves it (app/threads/branches.py).
    current_message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Message(IdMixin, CreatedMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_created", "thread_id", "created_at"),
        Index("ix_messages_fts", text("to_tsvector('simple', content)"), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    # The message before this one on its branch (None: the first); siblings share a parent.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    # Only so that one flush inserts a parent before its child (never loaded).
    parent: Mapped[Message | None] = relationship(remote_side="Message.id", lazy="raise")
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


@event.listens_for(Session, "before_flush")
def _continue_the_branch_shown(session: Session, _context: Any, _instances: Any) -> None:
    """A new message follows the last one of the branch its thread shows, and ends it.

    So every writer of messages (a post, a worker's reply, an import) keeps the tree without
    knowing of it; an edit or a regeneration first moves the thread's branch back to the
    message it answers (app/threads/branches.py), and its message lands beside the old one.
    """
    added = [obj for obj in session.new if isinstance(obj, Message)]
    pending = {obj.id: obj for obj in session.new if isinstance(obj, Thread) and obj.id is not None}
    for message in added:
        message.created_at = message.created_at or utcnow()
    new_ones: dict[uuid.UUID, Message] = {}
    for message in sorted(added, key=lambda m: m.created_at):  # stable: same times keep their order
        thread = pending.get(message.thread_id) or session.get(Thread, message.thread_id)
        if thread is None:
            continue
        message.id = message.id or uuid.uuid4()
        new_ones[message.id] = message
        if message.parent_id is None:
            message.parent_id = thread.current_message_id
        if message.parent_id in new_ones:
            message.parent = new_ones[message.parent_id]
        thread.current_message_id = message.id


def branch_upward(message_id: uuid.UUID, limit: int | None = None) -> CTE:
    """(id, depth) of `message_id` (depth 0) and the messages before it on its branch, up to
    `limit` in all."""
    branch = (
        select(Message.id, Message.parent_id, literal(0).label("depth"))
        .where(Message.id == message_id)
        .cte("branch_up", recursive=True)
    )
    earlier = aliased(Message)
    step = select(earlier.id, earlier.parent_id, branch.c.depth + 1).join(branch, earlier.id == branch.c.parent_id)
    return branch.union_all(step.where(branch.c.depth + 1 < limit) if limit else step)


def branch_downward(message_id: uuid.UUID) -> CTE:
    """(id) of `message_id` and every message after it, on all the branches that pass through it."""
    below = select(Message.id).where(Message.id == message_id).cte("branch_down", recursive=True)
    later = aliased(Message)
    return below.union_all(select(later.id).join(below, later.parent_id == below.c.id))


@dataclass(frozen=True)
class MessageVersions:
    """Where a message stands among its versions (siblings: edits, regenerations), for the
    switch between them."""

    position: int  # from 1
    count: int
    previous_id: uuid.UUID | None
    next_id: uuid.UUID | None

    @classmethod
    def among(cls, ids: list[uuid.UUID], message_id: uuid.UUID) -> MessageVersions:
        """`ids`: the versions, oldest first, `message_id` among them."""
        at = ids.index(message_id)
        previous_id = ids[at - 1] if at > 0 else None
        return cls(at + 1, len(ids), previous_id, ids[at + 1] if at + 1 < len(ids) else None)
