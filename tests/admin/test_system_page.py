"""The admins' System page: every dependency's state, the workers, the queue, the last errors."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.accounts import service as accounts
from app.db import utcnow
from app.models import Role, Run, RunStatus
from app.system.service import code_head
from tests.api.support import bearer, problem
from tests.fixtures.factories import make_agent, make_provider, make_thread
from tests.fixtures.live import live_nova
from tests.fixtures.nova import PASSWORD, Nova, submit
from tests.fixtures.postgres import fresh_database
from tests.fixtures.redis import RedisServer


def card(html: str, name: str) -> str:
    """The text of one card of the page, tags dropped."""
    match = re.search(rf'<section class="card" id="system-{name}">(.*?)</section>', html, re.S)
    assert match, f"no {name} card"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def test_an_admin_sees_every_check_and_the_last_failed_run(nova: Nova) -> None:
    admin = await nova.create_user("root@example.com", role=Role.ADMIN)
    provider = await make_provider(nova, admin.id, "http://127.0.0.1:9/v1")
    agent = await make_agent(nova, admin.id, provider, name="Researcher")
    thread = await make_thread(nova, admin.id)
    async with nova.ctx.db.transaction() as session:
        session.add(Run(owner_id=admin.id, thread_id=thread.id, agent_id=agent.id, status=RunStatus.FAILED,
                        error="The provider refused the API key.", finished_at=utcnow()))  # fmt: skip
        session.add(Run(owner_id=admin.id, thread_id=thread.id, agent_id=agent.id, status=RunStatus.QUEUED))
    async with await nova.login("root@example.com") as client:
        page = await client.get("/admin/system")
    assert page.status_code == 200
    assert "All good." in page.text
    assert code_head() and code_head() in card(page.text, "nova") and "up to date" in card(page.text, "nova")
    assert "Kind SQLite State reachable" in card(page.text, "database")
    assert "Not used (embedded: jobs run inside nova serve" in card(page.text, "redis")
    assert "Local disk" in card(page.text, "storage") and "reachable" in card(page.text, "storage")
    assert "jobs run inside this process" in card(page.text, "workers")
    assert "Runs queued 1" in card(page.text, "queue")
    errors = card(page.text, "errors")
    assert "Researcher" in errors and "The provider refused the API key." in errors


async def test_a_database_behind_the_code_is_named_as_a_problem(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    async with nova.ctx.db.engine.begin() as connection:
        head = code_head()
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'an_older_one'")
    try:
        async with await nova.login("root@example.com") as client:
            page = await client.get("/admin/system")
    finally:
        async with nova.ctx.db.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert "1 problem" in page.text and "All good." not in page.text
    assert f"The database is at migration an_older_one, this code expects {head}" in page.text
    assert "mismatch" in card(page.text, "nova")


async def test_non_admins_get_403(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        page = await client.get("/admin/system")
        threads = await client.get("/threads")
    assert page.status_code == 403
    assert "/admin/system" not in threads.text  # no nav link either


async def test_the_api_answers_the_same_as_json_for_admin_tokens_only(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    ada = await nova.create_user("ada@example.com")
    admin, ada_token = await bearer(nova, root.id, "admin"), await bearer(nova, ada.id)
    async with nova.client() as client:
        answer = await client.get("/api/v1/admin/system", headers=admin)
        refused = await client.get("/api/v1/admin/system", headers=ada_token)
    body = answer.json()
    assert answer.status_code == 200 and body["problems"] == []
    assert body["code_migration"] == body["database_migration"] == code_head()
    assert body["database"]["ok"] and body["storage"]["ok"] and body["database_kind"] == "sqlite"
    assert body["redis"] is None and body["workers"] is None and body["runs"]["queued"] == 0
    assert problem(refused, 403)


@pytest.mark.live
async def test_scaled_shows_the_workers_heartbeat_and_survives_a_dead_redis(
    tmp_path: Path, postgres_server_url: str
) -> None:
    redis = RedisServer().start()
    try:
        with fresh_database(postgres_server_url) as database:
            async with live_nova("scaled", tmp_path, postgres_url=database, redis_url=redis.url) as live:
                async with live.db.transaction() as session:
                    await accounts.create_user(session, "root@example.com", PASSWORD, Role.ADMIN)
                async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
                    login = await submit(client, "/login", {"email": "root@example.com", "password": PASSWORD})
                    assert login.status_code == 303
                    healthy = await client.get("/admin/system")
                    worker_pid = live.worker_pids[0]
                    redis.stop()
                    started = time.monotonic()
                    dead = await client.get("/admin/system")
                    took = time.monotonic() - started
    finally:
        redis.cleanup()
    assert "All good." in healthy.text, healthy.text
    assert "reachable" in card(healthy.text, "redis") and "Used memory" in card(healthy.text, "redis")
    workers = card(healthy.text, "workers")
    seen = re.findall(r"Last seen (\d+) s ago", workers)
    assert len(seen) == 1 and int(seen[0]) < 60, workers
    assert re.search(rf"Worker \S+-{worker_pid} Last seen", workers) and "Running 0 runs" in workers
    assert "Kind PostgreSQL State reachable" in card(healthy.text, "database")
    assert dead.status_code == 200 and took < 5
    assert "unreachable" in card(dead.text, "redis")
    assert "Redis is unreachable" in dead.text
