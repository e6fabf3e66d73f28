"""Revoke at once: suspension, a revoked token, a new password and a deleted provider end
the streams and runs they cover within 5 s, and nothing else.

In-process (jobs run inside the app), except the last test: `nova serve` + `nova worker`.
An in-process stream's response arrives only once the stream has ended, so "the stream
closed" is "the GET returned".
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.db import Database
from app.models import ApiToken, Provider, Role, Run, RunStatus
from app.threads import service as threads
from app.tokens import service as tokens
from tests.conftest import start_live
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import PASSWORD, Nova, submit
from tests.fixtures.server import ROOT, nova_command, nova_env
from tests.fixtures.sse import Received, read_events

WITHIN = 5.0  # seconds: the promise
SLOW = ScriptedReply(text=" ".join(f"w{i}" for i in range(600)), tokens_per_second=40)  # ~15 s


@dataclass
class Seeded:
    user_id: uuid.UUID
    provider: Provider
    tokens: list[str]

    def auth(self, index: int = 0) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[index]}"}


async def seed(nova: Nova, llm: ScriptedLLM, email: str = "ada@example.com", token_count: int = 1) -> Seeded:
    user = await nova.create_user(email)
    provider = await make_provider(nova, user.id, llm.base_url)
    await make_agent(nova, user.id, provider)
    async with nova.ctx.db.transaction() as session:
        secrets = [(await tokens.create_token(session, user.id, f"t{i}", "write")).secret for i in range(token_count)]
    return Seeded(user.id, provider, secrets)


async def start_slow_run(nova: Nova, seeded: Seeded) -> tuple[str, str]:
    """A run that is running (its worker streaming a ~15 s reply): (thread id, run id)."""
    async with nova.client() as client:
        thread = (await client.post("/api/v1/threads", json={"title": "Long"}, headers=seeded.auth())).json()
        posted = await client.post(f"/api/v1/threads/{thread['id']}/messages", json={"content": "Talk."},
                                   headers=seeded.auth())  # fmt: skip
    assert posted.status_code == 201, posted.text
    run_id = posted.json()["run_id"]
    await wait_for_status(nova, run_id, RunStatus.RUNNING)
    return thread["id"], run_id


async def wait_for_status(nova: Nova, run_id: str, status: RunStatus, within: float = 10) -> float:
    """Seconds until the run reached `status`."""
    return await wait_in(nova.ctx.db, run_id, status, within)


async def wait_in(db: Database, run_id: str, status: RunStatus, within: float) -> float:
    """Seconds until the run reached `status` in this database (a test's or a live server's)."""
    started = time.monotonic()
    while True:
        async with db.transaction() as session:
            run = await session.get(Run, uuid.UUID(run_id))
        assert run is not None
        if run.status is status:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"run still {run.status.value}, not {status.value}"
        await asyncio.sleep(0.05)


async def run_status(nova: Nova, run_id: str) -> RunStatus:
    async with nova.ctx.db.transaction() as session:
        run = await session.get(Run, uuid.UUID(run_id))
    assert run is not None
    return run.status


def open_stream(client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> asyncio.Task[str]:
    async def read() -> str:
        response = await client.get(url, headers=headers or {}, timeout=None)
        assert response.status_code == 200, response.text
        return response.text

    return asyncio.create_task(read())


async def closes_within(stream: asyncio.Task[str], seconds: float = WITHIN) -> str:
    done, _ = await asyncio.wait({stream}, timeout=seconds)
    assert done, f"the stream was still open {seconds} s later"
    return stream.result()


async def test_suspension_ends_the_browser_stream_and_cancels_the_running_job(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    seeded = await seed(nova, llm)
    llm.queue(SLOW)
    thread_id, run_id = await start_slow_run(nova, seeded)
    async with await nova.login("ada@example.com") as browser, await nova.login("root@example.com") as admin:
        stream = open_stream(browser, f"/threads/{thread_id}/runs/{run_id}/stream")
        await asyncio.sleep(0.3)
        assert not stream.done()
        suspended = await submit(admin, f"/admin/users/{seeded.user_id}/suspend")
        assert suspended.status_code == 303
        cancelled_after = await wait_for_status(nova, run_id, RunStatus.CANCELLED, within=WITHIN)
        body = await closes_within(stream)
    assert cancelled_after < WITHIN
    assert "event: delta" in body  # it was streaming the reply when it was cut


async def test_suspension_ends_queued_and_paused_runs_at_once(nova: Nova, llm: ScriptedLLM) -> None:
    """Runs no worker holds end in the suspending request itself; none of them starts later."""
    await nova.create_user("root@example.com", role=Role.ADMIN)
    seeded = await seed(nova, llm)
    llm.queue(SLOW)
    _thread_id, running_id = await start_slow_run(nova, seeded)
    async with nova.ctx.db.transaction() as session:
        running = await session.get(Run, uuid.UUID(running_id))
        assert running is not None
        # Another thread's run still held for its turn, and one paused for the user.
        other = await threads.create_thread(session, seeded.user_id, "Other")
        paused = await threads.create_thread(session, seeded.user_id, "Paused")
        held = Run(owner_id=seeded.user_id, thread_id=other.id, agent_id=running.agent_id)
        waiting = Run(owner_id=seeded.user_id, thread_id=paused.id, agent_id=running.agent_id,
                      status=RunStatus.WAITING, pending={"text": "So far", "request": {}})  # fmt: skip
        session.add_all([held, waiting])
    async with await nova.login("root@example.com") as admin:
        assert (await submit(admin, f"/admin/users/{seeded.user_id}/suspend")).status_code == 303
    assert await run_status(nova, str(held.id)) is RunStatus.CANCELLED
    assert await run_status(nova, str(waiting.id)) is RunStatus.CANCELLED
    await wait_for_status(nova, running_id, RunStatus.CANCELLED, within=WITHIN)


async def test_a_revoked_token_ends_its_stream_and_only_its_stream(nova: Nova, llm: ScriptedLLM) -> None:
    seeded = await seed(nova, llm, token_count=2)
    llm.queue(SLOW)
    _thread_id, run_id = await start_slow_run(nova, seeded)
    async with nova.client() as api, await nova.login("ada@example.com") as browser:
        revoked = open_stream(api, f"/api/v1/runs/{run_id}/events", seeded.auth(0))
        kept = open_stream(api, f"/api/v1/runs/{run_id}/events", seeded.auth(1))
        await asyncio.sleep(0.3)
        async with nova.ctx.db.transaction() as session:
            token = await session.scalar(select(ApiToken).where(ApiToken.name == "t0"))
        assert token is not None
        assert (await submit(browser, f"/tokens/{token.id}/revoke")).status_code == 303
        body = await closes_within(revoked)
        # The run belongs to the user, not the token: it goes on, and so does the other token's stream.
        assert await run_status(nova, run_id) is RunStatus.RUNNING
        assert not kept.done()
        await api.post(f"/api/v1/runs/{run_id}/cancel", headers=seeded.auth(1))
        kept_body = await closes_within(kept)
    assert "message.delta" in body and "run.cancelled" not in body
    assert "run.cancelled" in kept_body


async def test_a_password_change_ends_the_streams_of_other_sessions(nova: Nova, llm: ScriptedLLM) -> None:
    seeded = await seed(nova, llm)
    llm.queue(SLOW)
    thread_id, run_id = await start_slow_run(nova, seeded)
    async with await nova.login("ada@example.com") as laptop, await nova.login("ada@example.com") as phone:
        stream = open_stream(laptop, f"/threads/{thread_id}/runs/{run_id}/stream")
        await asyncio.sleep(0.3)
        new = "a brand new horse battery"
        changed = await submit(phone, "/settings/password",
                               {"current_password": PASSWORD, "new_password": new, "confirm_password": new})  # fmt: skip
        assert changed.status_code == 303, changed.text
        body = await closes_within(stream)
        assert await run_status(nova, run_id) is RunStatus.RUNNING  # the run is the user's, not the session's
        # The session that changed the password goes on: its new stream stays open.
        again = open_stream(phone, f"/threads/{thread_id}/runs/{run_id}/stream")
        await asyncio.sleep(2.5)
        assert not again.done()
        await submit(phone, f"/threads/{thread_id}/runs/{run_id}/cancel")
        await closes_within(again)
    assert "event: delta" in body and "event: done" not in body


async def test_deleting_a_provider_stops_the_runs_that_use_it(nova: Nova, llm: ScriptedLLM) -> None:
    seeded = await seed(nova, llm)
    bystander = await seed(nova, llm, email="bob@example.com")
    llm.queue(SLOW, SLOW)
    _thread_id, run_id = await start_slow_run(nova, seeded)
    _other_thread, other_run = await start_slow_run(nova, bystander)
    async with await nova.login("ada@example.com") as browser:
        deleted = await submit(browser, f"/providers/{seeded.provider.id}/delete")
    assert deleted.status_code == 303
    assert await wait_for_status(nova, run_id, RunStatus.CANCELLED, within=WITHIN) < WITHIN
    assert await run_status(nova, other_run) is RunStatus.RUNNING  # another provider's run goes on


@pytest.mark.live
async def test_scaled_suspension_closes_a_token_stream_and_cancels_the_job(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    """PostgreSQL, Redis, a separate `nova worker`: the admin page suspends the user."""
    async with start_live(request, "scaled", tmp_path) as live:

        async def suspend_on_the_admin_page() -> None:
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as admin:
                login = await submit(admin, "/login", {"email": "admin@nova.local", "password": "live admin password"})
                assert login.status_code == 303, login.text
                suspended = await submit(admin, f"/admin/users/{live.user_id}/suspend")
                assert suspended.status_code == 303, suspended.text

        await _suspension_ends_stream_and_run(live, llm, suspend_on_the_admin_page)


@pytest.mark.live
async def test_embedded_cli_suspension_stops_the_servers_running_job(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    """`nova user suspend` is its own process beside an embedded `nova serve`: it cannot reach
    the server's in-process event log, only the database they share."""
    async with start_live(request, "embedded", tmp_path) as live:

        async def suspend_with_the_cli() -> None:
            suspend = await asyncio.to_thread(
                subprocess.run, nova_command("user", "suspend", live.email), cwd=ROOT,
                env=nova_env(live.data_dir, **live.env), capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert suspend.returncode == 0, suspend.stderr

        await _suspension_ends_stream_and_run(live, llm, suspend_with_the_cli)


async def _suspension_ends_stream_and_run(
    live: LiveNova, llm: ScriptedLLM, suspend: Callable[[], Awaitable[None]]
) -> None:
    """A user streaming a long reply with a token is suspended by `suspend`: within 5 s of
    it, the run is cancelled and the token's stream closed."""
    await live.seed(llm.base_url)
    llm.queue(SLOW)
    run_id = (await live.post(await live.new_thread()))["run_id"]
    await wait_in(live.db, run_id, RunStatus.RUNNING, within=15)
    received = Received()
    async with live.api() as api:
        stream = asyncio.create_task(read_events(api, run_id, received))
        while not received.types.count("message.delta"):
            assert not stream.done()
            await asyncio.sleep(0.05)
        await suspend()
        started = time.monotonic()
        cancelled_after = await wait_in(live.db, run_id, RunStatus.CANCELLED, within=WITHIN)
        done, _ = await asyncio.wait({stream}, timeout=WITHIN - (time.monotonic() - started))
    assert done, "the token's stream was still open"
    assert cancelled_after < WITHIN
    assert stream.result() == 200 and "message.delta" in received.types
