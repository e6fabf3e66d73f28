"""SQL for exports and imports: a thread's whole tree, its replies' runs, many rows at once."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent, Message, Run, Thread


async def thread_messages(session: AsyncSession, thread_id: uuid.UUID) -> list[Message]:
    """Every message of the thread, on every branch, oldest first."""
    query = select(Message).where(Message.thread_id == thread_id).order_by(Message.created_at, Message.id)
    return list((await session.scalars(query)).all())


async def runs_by_id(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Run]:
    if not ids:
        return {}
    return {run.id: run for run in await session.scalars(select(Run).where(Run.id.in_(ids)))}


async def agents_by_id(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Agent]:
    if not ids:
        return {}
    return {agent.id: agent for agent in await session.scalars(select(Agent).where(Agent.id.in_(ids)))}


async def add_threads(session: AsyncSession, threads: list[Thread]) -> None:
    session.add_all(threads)
    await session.flush()


async def insert_messages(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many messages in few statements, parents before children (`rows` come so ordered).

    A bulk INSERT, not `session.add`: the flush listener in app/models/thread.py would hang
    every new root on the branch shown, and an import brings its own tree.
    """
    if rows:
        await session.execute(insert(Message), rows)
