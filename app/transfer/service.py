"""Export and import rules: the owner's thread as a document; a file's conversations as new threads.

An import inserts every thread of the file in the caller's one transaction, or none: the
file was checked whole before (app/transfer/reading.py). Imported replies have no run and no
agent (they were not written here); their tool steps are not imported.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FinishReason, MessageRole, Thread
from app.threads import service as threads
from app.transfer import export, repository
from app.transfer.document import Conversation, ThreadDocument


async def export_document(session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID) -> ThreadDocument:
    """The owner's thread (another's: NotFound) with every branch, its replies' tool steps and models."""
    thread = await threads.get_thread(session, owner_id, thread_id)
    messages = await repository.thread_messages(session, thread.id)
    runs = await repository.runs_by_id(session, {m.run_id for m in messages if m.run_id})
    agents = await repository.agents_by_id(session, {m.agent_id for m in messages if m.agent_id})
    return export.document(thread, messages, runs, agents)


@dataclass(frozen=True)
class Imported:
    thread: Thread
    messages: int


async def import_conversations(
    session: AsyncSession, owner_id: uuid.UUID, conversations: list[Conversation]
) -> list[Imported]:
    """New threads of the owner's, titles and times kept, each showing the branch the file showed."""
    made = [_thread(owner_id, c) for c in conversations]
    await repository.add_threads(session, made)
    rows = []
    for thread, conversation in zip(made, conversations, strict=True):
        ids = {m.key: uuid.uuid4() for m in conversation.messages}
        for m in conversation.messages:
            rows.append(
                {"id": ids[m.key], "thread_id": thread.id, "parent_id": ids[m.parent_key] if m.parent_key else None,
                 "role": MessageRole(m.role), "content": m.content, "created_at": m.created_at,
                 "finish_reason": FinishReason(m.finish_reason) if m.finish_reason else None}
            )  # fmt: skip
        thread.current_message_id = ids[conversation.current_key] if conversation.current_key else None
    await repository.insert_messages(session, rows)
    await session.flush()
    return [Imported(thread, len(c.messages)) for thread, c in zip(made, conversations, strict=True)]


def _thread(owner_id: uuid.UUID, conversation: Conversation) -> Thread:
    last = max((m.created_at for m in conversation.messages), default=conversation.created_at)
    # The title is the file's: a generated one must never replace it.
    return Thread(
        owner_id=owner_id,
        title=conversation.title,
        title_by_user=True,
        created_at=conversation.created_at,
        updated_at=max(last, conversation.created_at),
    )
