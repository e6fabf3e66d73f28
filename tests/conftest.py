"""Suite-wide fixtures: both databases, the app, users, the scripted LLM provider."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from app.migrate import upgrade_to_head
from app.settings import Settings
from tests.fixtures.live import LiveNova, live_nova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedLLMServer
from tests.fixtures.nova import Nova, nova_settings
from tests.fixtures.postgres import fresh_database, postgres_server
from tests.fixtures.redis import RedisServer

# Nova reads these from the environment; a developer's shell must not leak into tests.
for _field in Settings.model_fields.values():
    _alias = _field.validation_alias
    for _name in [_alias] if isinstance(_alias, str) else getattr(_alias, "choices", []):
        os.environ.pop(str(_name), None)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as server, fresh_database(server) as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each test that needs a database runs on SQLite and on PostgreSQL, migrated to head."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'nova.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_to_head(url)
    return url


@pytest.fixture
async def nova(database_url: str, tmp_path: Path) -> AsyncIterator[Nova]:
    app_settings = nova_settings(database_url, tmp_path)
    from app.main import create_app

    app = create_app(app_settings)
    async with app.router.lifespan_context(app):
        harness = Nova(app=app, ctx=app.state.ctx)
        try:
            yield harness
        finally:
            await harness.wipe()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A running, empty Redis (restarted if a fault test stopped it)."""
    if redis_server.process is None:
        redis_server.start()
    redis_server.flush()
    yield redis_server.url


@pytest.fixture(params=["embedded", "scaled"])
async def live(request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM) -> AsyncIterator[LiveNova]:
    """Nova as processes, seeded with a user, token, provider and agent; both modes."""
    async with start_live(request, request.param, tmp_path) as nova:
        await nova.seed(llm.base_url)
        yield nova


def start_live(
    request: pytest.FixtureRequest, mode: str, tmp_path: Path, **settings: Any
) -> AbstractAsyncContextManager[LiveNova]:
    if mode == "scaled":
        settings.update(
            postgres_url=request.getfixturevalue("postgres_url"),
            redis_url=request.getfixturevalue("redis_url"),
        )
    return live_nova(mode, tmp_path, **settings)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[ScriptedLLM]:
    server = ScriptedLLMServer()
    state = server.start()
    yield state
    server.stop()


@pytest.fixture
def llm(llm_server: ScriptedLLM) -> Iterator[ScriptedLLM]:
    """The scripted provider, reset for each test."""
    llm_server.replies.clear()
    llm_server.requests.clear()
    llm_server.api_key = None
    yield llm_server
