"""PostgreSQL killing Nova's connections (pg_terminate_backend) never breaks later runs.

Both the SQLAlchemy pool and the LangGraph checkpointer's pool (used by agents whose tools
can pause the run) must replace dead connections by themselves, and a database outage in
the middle of a run is retried, never reported as a model failure.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from app.agent_configs import service as agents
from app.agent_configs import toolset
from app.migrate import upgrade_to_head
from app.models import RunStatus
from app.runs import control
from app.threads import service as threads
from tests.fixtures.factories import make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, nova_settings, open_nova
from tests.fixtures.runs import finished_run


@pytest.fixture
def migrated_postgres(postgres_url: str) -> str:
    upgrade_to_head(postgres_url)
    return postgres_url


@pytest.fixture
async def nova_pg(migrated_postgres: str, tmp_path: Path) -> AsyncIterator[Nova]:
    postgres_url = migrated_postgres
    async with open_nova(nova_settings(postgres_url, tmp_path, NOVA_PROVIDER_RETRY_BASE_SECONDS="0.05")) as nova:
        yield nova


async def _agent(nova: Nova, base_url: str, *, pausable: bool) -> tuple[uuid.UUID, str]:
    user = await nova.create_user(f"{uuid.uuid4().hex[:8]}@example.com")
    provider = await make_provider(nova, user.id, base_url)
    data = agents.AgentInput("Helper", "Be brief.", str(provider.id), "", "0.3", "25", True)
    async with nova.ctx.db.transaction() as session:
        agent = await agents.create_agent(session, user.id, data)
        await toolset.set_tools(session, agent, {"ask_user": False, "datetime_now": False} if pausable else {})
    return user.id, agent.slug


async def _ask(nova: Nova, owner_id: uuid.UUID, agent: str) -> uuid.UUID:
    async with nova.ctx.db.transaction() as session:
        thread = await threads.create_thread(session, owner_id)
        posted = await threads.post_message(session, nova.ctx.settings, owner_id, thread.id, "Hello?", agent)
    await control.start(nova.ctx, posted.run)
    return posted.run.id


async def _kill_novas_connections(postgres_url: str) -> int:
    """Terminate every other connection to Nova's database, as an admin or a restart would."""
    plain = postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(plain)
    try:
        killed = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return int(killed)


@pytest.mark.parametrize("pausable", [True, False], ids=["checkpointed", "tool-less"])
async def test_runs_recover_after_the_database_killed_every_connection(
    nova_pg: Nova, postgres_url: str, llm: ScriptedLLM, pausable: bool
) -> None:
    owner, agent = await _agent(nova_pg, llm.base_url, pausable=pausable)
    first = await finished_run(nova_pg, await _ask(nova_pg, owner, agent))
    assert first.status is RunStatus.COMPLETED, first.error
    assert await _kill_novas_connections(postgres_url) >= 1
    for _ in range(2):  # the next runs, one after the other, on replaced connections
        again = await finished_run(nova_pg, await _ask(nova_pg, owner, agent))
        assert again.status is RunStatus.COMPLETED, again.error


async def test_connections_killed_during_a_checkpointed_run_are_retried_not_blamed_on_the_model(
    nova_pg: Nova, postgres_url: str, llm: ScriptedLLM
) -> None:
    owner, agent = await _agent(nova_pg, llm.base_url, pausable=True)
    warm = await finished_run(nova_pg, await _ask(nova_pg, owner, agent))  # the checkpointer's pool is open
    assert warm.status is RunStatus.COMPLETED
    llm.queue(ScriptedReply(text=" ".join(f"w{n}" for n in range(40)), tokens_per_second=40))
    run_id = await _ask(nova_pg, owner, agent)
    await asyncio.sleep(0.4)  # mid-reply: the checkpoint after this model step is still to be written
    await _kill_novas_connections(postgres_url)
    run = await finished_run(nova_pg, run_id, within=30)
    assert run.status is RunStatus.COMPLETED, run.error
    assert "model call failed" not in (run.error or "")
