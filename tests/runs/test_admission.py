"""Each user's turn: a flood of runs from one user waits in the database, others go first."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.agent_configs import service as agents
from app.models import Run, RunStatus
from app.runs import control
from app.threads import service as threads
from tests.fixtures.factories import make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, nova_settings, open_nova

pytestmark = pytest.mark.both_databases

SLOW_MODEL = "tokens=60,rate=30"  # about two seconds per reply: the flood needs six
FAST_MODEL = "tokens=3"


async def _user_with_agent(nova: Nova, email: str, base_url: str, model: str) -> tuple[uuid.UUID, str]:
    user = await nova.create_user(email)
    provider = await make_provider(nova, user.id, base_url)
    data = agents.AgentInput("Helper", "Be brief.", str(provider.id), model, "0.3", "25", True)
    async with nova.ctx.db.transaction() as session:
        agent = await agents.create_agent(session, user.id, data)
    return user.id, agent.slug


async def _post(nova: Nova, owner_id: uuid.UUID, agent: str, content: str = "Hello?") -> Run:
    ctx = nova.ctx
    async with ctx.db.transaction() as session:
        thread = await threads.create_thread(session, owner_id)
        posted = await threads.post_message(session, ctx.settings, owner_id, thread.id, content, agent)
    await control.start(ctx, posted.run)
    return posted.run


async def _runs(nova: Nova, owner_id: uuid.UUID) -> list[Run]:
    async with nova.ctx.db.transaction() as session:
        query = select(Run).where(Run.owner_id == owner_id).order_by(Run.created_at)
        return list((await session.scalars(query)).all())


async def _wait_finished(nova: Nova, owner_id: uuid.UUID, within: float) -> list[Run]:
    deadline = time.monotonic() + within
    while True:
        runs = await _runs(nova, owner_id)
        if all(run.status.is_terminal for run in runs):
            return runs
        assert time.monotonic() < deadline, [run.status for run in runs]
        await asyncio.sleep(0.05)


async def test_a_flood_waits_its_turn_while_another_user_is_answered_at_once(
    database_url: str, tmp_path: Path, llm: ScriptedLLM
) -> None:
    settings = nova_settings(database_url, tmp_path, NOVA_MAX_ACTIVE_RUNS_PER_USER="2", NOVA_RUN_CONCURRENCY="8")
    async with open_nova(settings) as nova:
        flooder, slow = await _user_with_agent(nova, "flood@example.com", llm.base_url, SLOW_MODEL)
        other, fast = await _user_with_agent(nova, "other@example.com", llm.base_url, FAST_MODEL)
        for n in range(6):
            await _post(nova, flooder, slow, f"flood {n}")
        held = [run for run in await _runs(nova, flooder) if run.dispatched_at is None]
        assert len(held) == 4  # two were handed to the queue, four wait in the database

        await _post(nova, other, fast)
        (answered,) = await _wait_finished(nova, other, within=10)
        assert answered.status is RunStatus.COMPLETED
        still_waiting = [run for run in await _runs(nova, flooder) if run.dispatched_at is None]
        assert still_waiting, "the other user's run should not have waited behind the flood"

        flood = await _wait_finished(nova, flooder, within=30)
    assert [run.status for run in flood] == [RunStatus.COMPLETED] * 6
    # Never more than two of the flooder's runs executing at once, and in the order posted.
    assert _most_at_once(flood) <= 2
    turns = [run.dispatched_at for run in flood]
    assert turns == sorted(turns)  # type: ignore[type-var]


async def test_a_finished_run_starts_the_owners_next_one_even_after_a_stop(
    database_url: str, tmp_path: Path, llm: ScriptedLLM
) -> None:
    settings = nova_settings(database_url, tmp_path, NOVA_MAX_ACTIVE_RUNS_PER_USER="1")
    async with open_nova(settings) as nova:
        owner, slow = await _user_with_agent(nova, "ada@example.com", llm.base_url, "tokens=400,rate=20")
        first = await _post(nova, owner, slow)
        second = await _post(nova, owner, slow)
        third = await _post(nova, owner, slow)
        assert [run.dispatched_at is None for run in await _runs(nova, owner)] == [False, True, True]
        await control.stop(nova.ctx, owner, third.id)  # a run waiting for its turn can be stopped
        await control.stop(nova.ctx, owner, first.id)
        deadline = time.monotonic() + 10
        while (await _runs(nova, owner))[1].started_at is None:  # the second one's turn came
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await control.stop(nova.ctx, owner, second.id)
        runs = await _wait_finished(nova, owner, within=10)
    assert [run.status for run in runs] == [RunStatus.CANCELLED] * 3
    assert runs[2].started_at is None  # stopped before it ever ran


def _most_at_once(runs: list[Run]) -> int:
    edges = []
    for run in runs:
        assert run.started_at is not None and run.finished_at is not None
        edges += [(run.started_at, 1), (run.finished_at, -1)]
    level = most = 0
    for _, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        level += step
        most = max(most, level)
    return most
