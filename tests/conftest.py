"""Suite-wide fixtures: the databases, the app, live processes, users, the scripted LLM provider."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from app.db import Database
from app.migrate import upgrade_to_head
from app.security import passwords
from app.settings import Settings
from tests.fixtures.live import LiveNova, live_nova, wipe
from tests.fixtures.llm_server import ScriptedLLM, ScriptedLLMServer
from tests.fixtures.nova import Nova, nova_settings
from tests.fixtures.postgres import fresh_database, postgres_server
from tests.fixtures.redis import RedisServer

LIVE_FIXTURES = {"live", "live_server", "scaled_live", "embedded_server", "scaled_server", "nova_app"}
BROWSER_FIXTURES = {"browser", "page"}
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# Nova reads these from the environment; a developer's shell must not leak into tests.
for _field in Settings.model_fields.values():
    _alias = _field.validation_alias
    for _name in [_alias] if isinstance(_alias, str) else getattr(_alias, "choices", []):
        os.environ.pop(str(_name), None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`database_url` is SQLite, and also PostgreSQL for tests marked `both_databases`."""
    if "database_url" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        dialects = ["sqlite", "postgresql"] if both else ["sqlite"]
        metafunc.parametrize("database_url", dialects, indirect=True, scope="session")


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test using these fixtures is `live` or `browser` even if its module forgot to say so
    (tests that call `start_live` or `nova_serve` themselves carry the mark explicitly)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    if fixtures & BROWSER_FIXTURES:
        item.add_marker(pytest.mark.browser)
    if fixtures & (LIVE_FIXTURES | BROWSER_FIXTURES):
        item.add_marker(pytest.mark.live)  # every browser test drives a `nova serve`


@pytest.hookimpl(trylast=True)  # after pytest has grouped tests by their fixtures' parameters
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with `live` tests first (a stable sort: pytest's order is otherwise kept).
    Under `pytest -n 2 --dist loadscope --no-loadscope-reorder` (`make pytest`) the slow
    modules start at once and the many quick ones fill in behind them, instead of one slow
    module running alone at the end."""
    live_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("live")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in live_modules)


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[tuple[PasswordHasher, str]]:
    """argon2id at production strength costs ~0.3 CPU-second a hash or check, and the suite
    makes hundreds (every user, every login), so in-process tests hash with the cheapest
    parameters. Yields the production hasher and dummy hash, which tests/security/
    test_passwords.py checks. `nova serve` processes keep the real ones; a hash carries its
    parameters, so either side verifies the other's."""
    production = passwords._hasher
    dummy = passwords._dummy_hash()  # made by the production hasher
    passwords._hasher = QUICK_HASHER
    passwords._dummy_hash.cache_clear()
    yield production, dummy
    passwords._hasher = production
    passwords._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head: SQLite, or PostgreSQL too where the dialect matters.

    Mark a test (or module) `both_databases` to run it on both; see pytest_generate_tests.
    """
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'nova.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_to_head(url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The database alone, for tests of repositories and SQL; emptied afterwards."""
    database = Database(database_url)
    try:
        yield database
    finally:
        await wipe(database)
        await database.dispose()


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


@pytest.fixture(scope="module")
def live_settings() -> dict[str, str]:
    """Settings for the module's shared live servers; a test module may override this fixture."""
    return {}


class SharedLiveServers:
    """The live servers of modules that keep the default settings, started on first use and
    kept for the session: a pytest worker starts each kind once instead of once per module.
    Every test is a user of its own, so modules sharing a server never see each other's rows."""

    def __init__(self, stack: AsyncExitStack, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.stack = stack
        self.tmp_path_factory = tmp_path_factory
        self.started: dict[str, LiveNova] = {}

    async def get(self, mode: str, postgres_server_url: str = "") -> LiveNova:
        if mode not in self.started:
            manager = _embedded_nova(self.tmp_path_factory, {}) if mode == "embedded" else (
                _scaled_nova(self.tmp_path_factory, postgres_server_url, {}))  # fmt: skip
            self.started[mode] = await self.stack.enter_async_context(manager)
        return self.started[mode]


@pytest.fixture(scope="session")
async def shared_live_servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SharedLiveServers]:
    async with AsyncExitStack() as stack:
        yield SharedLiveServers(stack, tmp_path_factory)


@asynccontextmanager
async def _embedded_nova(tmp_path_factory: pytest.TempPathFactory, settings: dict[str, str]) -> AsyncIterator[LiveNova]:
    async with live_nova("embedded", tmp_path_factory.mktemp("embedded"), **settings) as server:
        yield server


@asynccontextmanager
async def _scaled_nova(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str, settings: dict[str, str]
) -> AsyncIterator[LiveNova]:
    """On a PostgreSQL database and a Redis of its own (tests that stop the suite's Redis
    cannot disturb it)."""
    redis = RedisServer().start()
    try:
        with fresh_database(postgres_server_url) as database:
            async with live_nova("scaled", tmp_path_factory.mktemp("scaled"), postgres_url=database,
                                 redis_url=redis.url, **settings) as server:  # fmt: skip
                yield server
    finally:
        redis.cleanup()


@pytest.fixture(scope="module")
async def embedded_server(
    tmp_path_factory: pytest.TempPathFactory, live_settings: dict[str, str], shared_live_servers: SharedLiveServers
) -> AsyncIterator[LiveNova]:
    """An embedded `nova serve` (SQLite, jobs in-process): the shared one, or the module's own
    when it overrides `live_settings`."""
    if not live_settings:
        yield await shared_live_servers.get("embedded")
        return
    async with _embedded_nova(tmp_path_factory, live_settings) as server:
        yield server


@pytest.fixture(scope="module")
async def scaled_server(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server_url: str,
    live_settings: dict[str, str],
    shared_live_servers: SharedLiveServers,
) -> AsyncIterator[LiveNova]:
    """A scaled `nova serve` + `nova worker`: the shared one, or the module's own when it
    overrides `live_settings`."""
    if not live_settings:
        yield await shared_live_servers.get("scaled", postgres_server_url)
        return
    async with _scaled_nova(tmp_path_factory, postgres_server_url, live_settings) as server:
        yield server


@pytest.fixture(params=["embedded", "scaled"])
def live_server(request: pytest.FixtureRequest) -> LiveNova:
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


@pytest.fixture
async def live(live_server: LiveNova, llm: ScriptedLLM) -> AsyncIterator[LiveNova]:
    """Nova as processes, in both modes, as a user of this test's own (token, provider, agent).

    The processes are shared (by the session, or by a module with settings of its own): a test
    that kills them, changes their settings or stops Redis starts its own with `start_live`.
    """
    view = await live_server.as_new_user(llm.base_url)
    yield view
    await view.settle()  # no run of this test may take the next test's scripted replies


@pytest.fixture
async def scaled_live(scaled_server: LiveNova, llm: ScriptedLLM) -> AsyncIterator[LiveNova]:
    """The module's scaled Nova only (for tests about arq and Redis), as a user of its own."""
    view = await scaled_server.as_new_user(llm.base_url)
    yield view
    await view.settle()


def start_live(
    request: pytest.FixtureRequest, mode: str, tmp_path: Path, **settings: Any
) -> AbstractAsyncContextManager[LiveNova]:
    """Nova as processes of this test's own (seed a user with `live.seed`)."""
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
    llm_server.titles.clear()
    llm_server.title_requests.clear()
    llm_server.api_key = None
    llm_server.respond = None
    llm_server.models = ScriptedLLM().models
    yield llm_server
