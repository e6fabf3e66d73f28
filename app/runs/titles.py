"""Generated thread titles: after a new thread's first reply, a few words from the model that
wrote it replace the title taken from the first message, unless the user chose a title.

When: on the worker, once the reply's final event is out (`after_reply`, called by
`lifecycle.finish`), so the reply's end never waits on a second model call. The browser's
run stream ends at that final event, so the finished reply carries a small request
(threads/_title_wait.html → `threads:title`) that waits here (`wait_for_title`) for the
title's event and swaps the header and sidebar out of band. The event goes to a log key of
its own, not the run's: the run's log still ends with its final event, which the API, /v1
and reconnecting streams rely on.

A failure (provider down, timeout, an empty answer) is logged and the old title stays.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.errors import ProviderFailure
from app.agents.provider_config import ProviderConfig
from app.agents.titling import suggest_title
from app.context import AppContext
from app.events import EventType, RunEvent
from app.models import Agent, FinishReason, Message, MessageRole, Run, RunStatus, Thread
from app.providers import repository as providers
from app.providers.service import provider_config

log = logging.getLogger(__name__)

MAX_WORDS = 8
MAX_CHARS = 200  # threads.title is a VARCHAR(200)
# A slow local model may take a while; the page waits a little longer than the worker.
GENERATE_SECONDS = 20.0
WAIT_SECONDS = GENERATE_SECONDS + 10.0
# How often a waiting page re-reads the log, in case a live event was lost (Redis restart).
RECHECK_SECONDS = 2.0

_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^\s*(title|titre|titel)\s*:\s*", re.IGNORECASE)
_QUOTES = "\"'`“”\u2018\u2019«»„*_#"  # with typographic single quotes
_TRAILING = _QUOTES + " .,;:-\u2013\u2014"  # and dashes


def clean(raw: str) -> str | None:
    """The model's answer as a title: first line, no quotes or label, at most MAX_WORDS
    words and MAX_CHARS characters; None if nothing is left."""
    text = _THINKING.sub("", raw)  # reasoning models may think out loud first
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = _LABEL.sub("", line.strip().strip(_QUOTES)).strip().strip(_QUOTES)
    for quote in '"“”«»„':
        line = line.replace(quote, "")
    words = line.split()
    title = " ".join(words[:MAX_WORDS]).rstrip(_TRAILING).strip()
    if len(title) > MAX_CHARS:
        title = title[: MAX_CHARS - 1] + "…"
    return title or None


async def wanted(session: AsyncSession, run: Run) -> bool:
    """The run's reply is the first its thread finished, and nobody named the thread.

    Stays true once the title is made, so the page asks for it even when the worker was quicker.
    """
    if run.status is not RunStatus.COMPLETED:
        return False
    thread = await session.get(Thread, run.thread_id)
    if thread is None or thread.title_by_user:
        return False
    query = (
        select(Message.run_id)
        .where(
            Message.thread_id == run.thread_id,
            Message.role == MessageRole.ASSISTANT,
            Message.finish_reason == FinishReason.STOP,
        )
        .order_by(Message.created_at, Message.id)
        .limit(1)
    )
    return await session.scalar(query) == run.id


@dataclass(frozen=True)
class _Job:
    thread_id: uuid.UUID
    provider: ProviderConfig | None  # None: the agent lost its provider since it replied
    question: str
    answer: str


async def after_reply(ctx: AppContext, run_id: uuid.UUID) -> None:
    """Title the run's thread if the run gave it its first reply. Never raises: a failure
    leaves the old title and tells a waiting page there is none."""
    try:
        job = await _job_for(ctx, run_id)
    except Exception:
        log.exception("cannot prepare a title for the thread of run %s", run_id)
        return
    if job is None:
        return
    title = await _generate(run_id, job)
    try:
        stored = title is not None and await _store(ctx, job.thread_id, title)
    except Exception:
        log.exception("cannot store the title of the thread of run %s", run_id)
        stored = False
    await _announce(ctx, run_id, job.thread_id, title if stored else None)


async def _generate(run_id: uuid.UUID, job: _Job) -> str | None:
    """The cleaned title, or None (logged) if the provider failed, was slow or said nothing."""
    reason = "the agent has no provider any more"
    if job.provider is not None:
        try:
            async with asyncio.timeout(GENERATE_SECONDS):
                raw = await suggest_title(job.provider, job.question, job.answer)
            reason = "the model's answer was empty"
            if (title := clean(raw)) is not None:
                return title
        except ProviderFailure as exc:
            reason = str(exc)
        except TimeoutError:
            reason = f"no answer within {GENERATE_SECONDS:g} s"
        except Exception as exc:
            reason = f"unexpected {type(exc).__name__}"
    log.warning("no title for the thread of run %s: %s", run_id, reason)
    return None


async def _job_for(ctx: AppContext, run_id: uuid.UUID) -> _Job | None:
    async with ctx.db.transaction() as session:
        run = await session.get(Run, run_id)
        if run is None or not await wanted(session, run):
            return None
        provider = await _provider_of(session, ctx, run)
        question = await session.scalar(
            select(Message.content)
            .where(Message.thread_id == run.thread_id, Message.role == MessageRole.USER)
            .order_by(Message.created_at, Message.id)
            .limit(1)
        )
        answer = await session.scalar(select(Message.content).where(Message.run_id == run.id))
    return _Job(run.thread_id, provider, question or "", answer or "")


async def _provider_of(session: AsyncSession, ctx: AppContext, run: Run) -> ProviderConfig | None:
    """The provider and model of the agent that wrote the reply."""
    agent = await session.get(Agent, run.agent_id) if run.agent_id else None
    if agent is None or agent.provider_id is None:
        return None
    provider = await providers.get_usable(session, agent.owner_id, agent.provider_id)
    if provider is None:
        return None
    return provider_config(provider, ctx.secretbox, agent.model, allowlist=ctx.settings.egress_allowlist)


async def _store(ctx: AppContext, thread_id: uuid.UUID, title: str) -> bool:
    """Only over a title nobody chose: a rename made while the model wrote wins."""
    async with ctx.db.transaction() as session:
        query = update(Thread).where(Thread.id == thread_id, Thread.title_by_user.is_(False)).values(title=title)
        result = await session.execute(query)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _key(run_id: uuid.UUID) -> str:
    return f"{run_id}:title"


async def _announce(ctx: AppContext, run_id: uuid.UUID, thread_id: uuid.UUID, title: str | None) -> None:
    data = {"thread_id": str(thread_id), "title": title}
    try:
        await ctx.events.append(_key(run_id), RunEvent(id=1, type=EventType.THREAD_TITLED, data=data))
        await ctx.events.finish(_key(run_id))
    except Exception as exc:  # the title is stored; a page open now shows it on its next load
        log.warning("cannot announce the title of run %s's thread (%s)", run_id, type(exc).__name__)


async def wait_for_title(ctx: AppContext, run_id: uuid.UUID, within: float = WAIT_SECONDS) -> str | None:
    """The title made after this run, once the worker announces it; None if it made none
    (or nothing came `within` seconds). Holds no database session while it waits."""
    key = _key(run_id)
    async with ctx.events.listen(key) as listener:  # before reading: nothing falls between
        with suppress(TimeoutError):
            async with asyncio.timeout(within):
                while True:
                    for event in await ctx.events.read_after(key, 0):
                        if event.type == EventType.THREAD_TITLED:
                            title = event.data.get("title")
                            return str(title) if title else None
                    with suppress(TimeoutError):
                        await asyncio.wait_for(listener.queue.get(), RECHECK_SECONDS)
    return None
