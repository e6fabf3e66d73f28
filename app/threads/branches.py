"""Branches of a thread: edit a message, regenerate a reply, switch versions, delete from here.

A thread's messages form a tree (each message's parent is the one before it on its branch);
`Thread.current_message_id` ends the branch shown, which is both the conversation on screen
and the history of the next run. New messages always continue that branch (the listener in
app/models/thread.py), so an edit or a regeneration moves it back to the message being
answered first: the new message then lands beside the old one, which stays as a sibling.

While a run is active its branch must stay put (its reply joins the branch shown when it
ends), so every change here is refused until the run ends or is stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import Conflict, NotFound, ThreadBusy
from app.models import Message, MessageRole, Run, Thread
from app.models.thread import MessageVersions
from app.runs import service as runs
from app.settings import Settings
from app.threads import repository
from app.threads.service import Posted, agent_for_reply, get_thread, post_message

EDIT_REFUSED = "Only your own messages can be edited; regenerate a reply instead."


async def versions_of(session: AsyncSession, messages: Sequence[Message]) -> dict[uuid.UUID, MessageVersions]:
    """Each of one thread's `messages` that has other versions, and where it stands among them."""
    if not messages:
        return {}
    found = await repository.siblings(session, messages[0].thread_id, messages)
    return {message_id: MessageVersions.among(ids, message_id) for message_id, ids in found.items()}


async def version_ids(session: AsyncSession, messages: Sequence[Message]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each of one thread's `messages` that has other versions: the ids of all of them, oldest first."""
    return await repository.siblings(session, messages[0].thread_id, messages) if messages else {}


async def owned_message(
    session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[Thread, Message]:
    """The owner's thread and one of its messages (another's, or none: NotFound)."""
    thread = await get_thread(session, owner_id, thread_id)
    message = await repository.get_message(session, thread.id, message_id)
    if message is None:
        raise NotFound(str(message_id))
    return thread, message


async def _unchanging(
    session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[Thread, Message]:
    """The owner's thread and its message, if no run is writing in it (ThreadBusy if one is)."""
    thread, message = await owned_message(session, owner_id, thread_id, message_id)
    if (active := await runs.active_run(session, thread.id)) is not None:
        raise ThreadBusy(runs.BUSY_MESSAGE, active.id)
    return thread, message


async def select(session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID, message_id: uuid.UUID) -> Thread:
    """Show the branch through `message_id`: the latest one that goes on from it."""
    thread, message = await _unchanging(session, owner_id, thread_id, message_id)
    thread.current_message_id = await repository.newest_below(session, message.id)
    return thread


async def edit(
    session: AsyncSession,
    settings: Settings,
    owner_id: uuid.UUID,
    thread_id: uuid.UUID,
    message_id: uuid.UUID,
    content: str,
    agent_ref: str | None = None,
    model: str | None = None,
) -> Posted:
    """A new version of the user's message (the old one stays, as a sibling) and the run that
    answers it with the history before it."""
    thread, message = await _unchanging(session, owner_id, thread_id, message_id)
    if message.role is not MessageRole.USER:
        raise Conflict(EDIT_REFUSED)
    thread.current_message_id = message.parent_id
    return await post_message(session, settings, owner_id, thread.id, content, agent_ref, model=model)


async def regenerate(
    session: AsyncSession,
    settings: Settings,
    owner_id: uuid.UUID,
    thread_id: uuid.UUID,
    message_id: uuid.UUID,
    agent_ref: str | None = None,
    model: str | None = None,
) -> Run:
    """A new run answering again what the reply `message_id` answered (its new reply becomes a
    sibling of that one); given the user's message itself, a new reply to it."""
    thread, message = await _unchanging(session, owner_id, thread_id, message_id)
    thread.current_message_id = message.id if message.role is MessageRole.USER else message.parent_id
    agent = await agent_for_reply(session, settings, owner_id, thread, agent_ref)
    thread.agent_id, thread.updated_at = agent.id, utcnow()
    return await runs.start_run(session, owner_id, thread.id, agent.id, model=(model or "").strip() or None)


async def delete_from(
    session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID, message_id: uuid.UUID
) -> Thread:
    """Delete the message and everything after it; other versions of it, and their branches,
    stay. Deleting from the branch shown shows a neighbouring version, else what came before."""
    thread, message = await _unchanging(session, owner_id, thread_id, message_id)
    neighbour, parent_id = None, message.parent_id
    if (siblings := await repository.siblings(session, thread.id, [message])) and message.id in siblings:
        ids = siblings[message.id]
        at = ids.index(message.id)
        neighbour = ids[at - 1] if at > 0 else ids[at + 1]
    deleted = await repository.delete_from(session, message.id)
    if thread.current_message_id in deleted:
        shown = await repository.newest_below(session, neighbour) if neighbour else parent_id
        thread.current_message_id = shown
    return thread
