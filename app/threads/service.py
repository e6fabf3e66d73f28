"""Thread rules: ownership, titles, posting a message (which starts the run that answers it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from app.agent_configs import service as agent_configs
from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.files import service as files
from app.models import Agent, FinishReason, Message, MessageRole, Run, Thread
from app.pagination import Keyset, Page, page_of
from app.runs import service as runs
from app.settings import Settings
from app.threads import repository
from app.threads.search import search_words

PAGE_SIZE = 30
# A thread opens at its newest messages; older ones load as the reader scrolls up.
MESSAGES_PER_PAGE = 50
# A search result opens its thread down to the message found, if it is among the newest so many.
MAX_REACH = 500
NEW_THREAD_TITLE = "New thread"
MAX_TITLE = 200
MAX_MESSAGE_CHARS = 100_000
MAX_MODEL_CHARS = 200  # the runs.model column
RETRY_REFUSED = "Only the last reply of a thread can be tried again, and only if it failed."


MAX_PINNED = 100


@dataclass(frozen=True)
class ThreadGroup:
    label: str
    threads: list[Thread]


@dataclass(frozen=True)
class ThreadPage:
    threads: Sequence[Thread]
    page: int
    has_more: bool
    # The sidebar's groups: "Pinned" first (on the first page), then by day of last activity.
    groups: Sequence[ThreadGroup] = ()


async def list_threads(
    session: AsyncSession, owner_id: uuid.UUID, page: int = 1, timezone: str = "UTC", now: datetime | None = None
) -> ThreadPage:
    """A page of the sidebar: threads neither pinned nor archived, newest activity first, in
    groups by day in the user's timezone; the pinned ones head the first page."""
    page = max(page, 1)
    rows = await repository.list_threads(session, owner_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    shown = rows[:PAGE_SIZE]
    pinned: Sequence[Thread] = []
    if page == 1:
        pinned = await repository.list_threads(session, owner_id, offset=0, limit=MAX_PINNED, pinned=True)
    groups = ([ThreadGroup("Pinned", list(pinned))] if pinned else []) + by_day(shown, timezone, now or utcnow())
    return ThreadPage(threads=[*pinned, *shown], page=page, has_more=len(rows) > PAGE_SIZE, groups=groups)


def by_day(threads: Sequence[Thread], timezone: str, now: datetime) -> list[ThreadGroup]:
    """Today, Yesterday, Previous 7 days and Older, by last activity in `timezone` (groups
    with no thread left out); `threads` come newest first and keep their order."""
    zone = _zone(timezone)
    today = now.astimezone(zone).date()
    groups: dict[str, list[Thread]] = {}
    for thread in threads:
        age = (today - thread.updated_at.astimezone(zone).date()).days
        label = "Today" if age <= 0 else "Yesterday" if age == 1 else "Previous 7 days" if age <= 7 else "Older"
        groups.setdefault(label, []).append(thread)
    return [ThreadGroup(label, found) for label, found in groups.items()]


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(_zone(timezone)).date()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def archived_threads(session: AsyncSession, owner_id: uuid.UUID, page: int = 1) -> ThreadPage:
    page = max(page, 1)
    offset = (page - 1) * PAGE_SIZE
    rows = await repository.list_threads(session, owner_id, offset=offset, limit=PAGE_SIZE + 1, archived=True)
    return ThreadPage(threads=rows[:PAGE_SIZE], page=page, has_more=len(rows) > PAGE_SIZE)


def set_pinned(thread: Thread, pinned: bool) -> Thread:
    thread.pinned = pinned
    return thread


def set_archived(thread: Thread, archived: bool) -> Thread:
    """An archived thread leaves the sidebar (and its pinned group) until it is restored."""
    thread.archived = archived
    if archived:
        thread.pinned = False
    return thread


async def threads_after(
    session: AsyncSession, owner_id: uuid.UUID, cursor: str | None, limit: int, text: str | None = None
) -> Page[Thread]:
    """A page of threads for the API, newest activity first (keyset: stable while threads change)."""
    after = Keyset.decode(cursor) if cursor else None
    text = (text or "").strip() or None
    rows = await repository.threads_after(session, owner_id, after, limit, text, search_words(text or ""))
    return page_of(rows, limit, lambda t: (t.updated_at, t.id))


async def get_thread(session: AsyncSession, owner_id: uuid.UUID, thread_id: uuid.UUID) -> Thread:
    thread = await repository.get_thread(session, owner_id, thread_id)
    if thread is None:
        raise NotFound(str(thread_id))
    return thread


async def create_thread(session: AsyncSession, owner_id: uuid.UUID, title: str = NEW_THREAD_TITLE) -> Thread:
    """A title given here is the caller's choice (an integration's, a test's): kept for good."""
    cleaned = _clean_title(title) or NEW_THREAD_TITLE
    thread = Thread(owner_id=owner_id, title=cleaned, title_by_user=cleaned != NEW_THREAD_TITLE)
    session.add(thread)
    await session.flush()
    return thread


async def rename_thread(session: AsyncSession, thread: Thread, title: str) -> Thread:
    cleaned = _clean_title(title)
    if not cleaned:
        raise ValidationFailed({"title": f"Enter a title of 1 to {MAX_TITLE} characters."})
    thread.title = cleaned
    thread.title_by_user = True  # a generated title never replaces it
    return thread


async def delete_thread(session: AsyncSession, thread: Thread) -> list[str]:
    """Delete the thread and its files' rows; their object keys, for the edge to remove after commit."""
    keys = await files.delete_for_thread(session, thread.id)
    await session.delete(thread)
    return keys


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    # The oldest message shown, when there are older ones to load (on scroll).
    older_than: uuid.UUID | None


async def message_page(
    session: AsyncSession, thread: Thread, before_id: uuid.UUID | None = None, size: int = MESSAGES_PER_PAGE
) -> MessagePage:
    """The newest messages of the branch shown, or those before one of its messages: a long
    thread opens fast."""
    last_id = thread.current_message_id
    if before_id is not None:
        before = await repository.get_message(session, thread.id, before_id)
        if before is None:
            raise NotFound(str(before_id))
        last_id = before.parent_id
    found = await repository.branch(session, last_id, size + 1) if last_id else []
    if len(found) <= size:
        return MessagePage(found, None)
    shown = found[1:]
    return MessagePage(shown, shown[0].id)


async def message_page_reaching(session: AsyncSession, thread: Thread, message_id: uuid.UUID) -> MessagePage:
    """The newest messages, reaching back to `message_id` (a search result) if it is among the
    newest MAX_REACH of the branch shown; else just the newest page."""
    last_id = thread.current_message_id
    shown = await repository.branch_ids(session, last_id, MAX_REACH) if last_id else []
    if message_id not in shown:
        return await message_page(session, thread)
    return await message_page(session, thread, size=max(MESSAGES_PER_PAGE, shown.index(message_id) + 1))


@dataclass(frozen=True)
class Posted:
    message: Message
    run: Run


async def post_message(
    session: AsyncSession,
    settings: Settings,
    owner_id: uuid.UUID,
    thread_id: uuid.UUID,
    content: str,
    agent_ref: str | None,
    extra_instructions: str | None = None,
    model: str | None = None,
    options: dict[str, Any] | None = None,
    file_ids: Sequence[uuid.UUID] = (),
) -> Posted:
    """Store the user's message (with the files it carries) and the run that will answer it;
    the edge commits, then enqueues."""
    thread = await get_thread(session, owner_id, thread_id)
    content = _clean_content(content)
    agent = await agent_for_reply(session, settings, owner_id, thread, agent_ref)
    message = Message(thread_id=thread.id, role=MessageRole.USER, content=content, agent_id=agent.id)
    session.add(message)
    thread.agent_id = agent.id
    if thread.title == NEW_THREAD_TITLE:
        thread.title = _clean_title(content.splitlines()[0]) or NEW_THREAD_TITLE
    thread.updated_at = utcnow()
    await session.flush()
    await files.attach(session, owner_id, thread.id, message.id, file_ids)
    run = await runs.start_run(session, owner_id, thread.id, agent.id, extra_instructions, _clean_model(model), options)
    return Posted(message, run)


async def retry_reply(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, thread_id: uuid.UUID, message_id: uuid.UUID
) -> Run:
    """A new run answering the thread's last message again, after the reply `message_id` failed.

    The failure stays in the thread (models never see it). Only the latest reply can be
    retried: an older one would answer a question the user has since moved on from.
    """
    thread = await get_thread(session, owner_id, thread_id)
    if await runs.active_run(session, thread.id) is not None:  # said first: it is why the reply is not last
        raise Conflict(runs.BUSY_MESSAGE)
    latest = await repository.get_message(session, thread.id, message_id)
    if latest is None or thread.current_message_id != message_id or latest.finish_reason is not FinishReason.ERROR:
        raise Conflict(RETRY_REFUSED)
    agent = await agent_for_reply(session, settings, owner_id, thread, None)
    run = await runs.start_run(session, owner_id, thread.id, agent.id)
    thread.updated_at = utcnow()
    return run


async def agent_for_reply(
    session: AsyncSession, settings: Settings, owner_id: uuid.UUID, thread: Thread, agent_ref: str | None
) -> Agent:
    """The agent named in the request, else the thread's last one, else the default."""
    if agent_ref:
        return await agent_configs.find_agent(session, owner_id, agent_ref, settings)
    candidates = await agent_configs.agents_for_chat(session, owner_id, settings)
    for agent in candidates:
        if agent.id == thread.agent_id:
            return agent
    if not candidates:
        raise ValidationFailed({"agent": "Set up an agent first (Agents page)."})
    return candidates[0]


def _clean_content(content: str) -> str:
    content = content.strip()
    if not content:
        raise ValidationFailed({"content": "Write a message first."})
    if len(content) > MAX_MESSAGE_CHARS:
        raise ValidationFailed({"content": f"Messages are limited to {MAX_MESSAGE_CHARS} characters."})
    return content


async def import_history(session: AsyncSession, thread: Thread, turns: Sequence[tuple[str, str]]) -> None:
    """Earlier turns an integration sent along (OpenAI clients send the whole history)."""
    start = utcnow()
    for position, (role, content) in enumerate(turns):
        is_user = role == MessageRole.USER.value
        session.add(
            Message(
                thread_id=thread.id,
                role=MessageRole.USER if is_user else MessageRole.ASSISTANT,
                content=content,
                finish_reason=None if is_user else FinishReason.STOP,
                # Distinct, increasing times keep the imported order.
                created_at=start + timedelta(microseconds=position),
            )
        )
    await session.flush()


def _clean_model(model: str | None) -> str | None:
    """The model asked for this message: None (the agent's own) when left empty."""
    model = (model or "").strip()
    if not model:
        return None
    if len(model) > MAX_MODEL_CHARS or any(char.isspace() for char in model):
        raise ValidationFailed({"model": "Enter a model name as the provider lists it (no spaces)."})
    return model


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    return title[: MAX_TITLE - 1] + "…" if len(title) > MAX_TITLE else title
