"""Upgrading an empty database to head gives exactly the models' schema, on both dialects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import app.models  # noqa: F401
from app.db import Base, make_engine
from app.migrate import upgrade_to_head
from tests.fixtures.postgres import fresh_database

pytestmark = pytest.mark.both_databases


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, empty until migrated: the suite's shared ones hold tables that
    other code creates at run time (LangGraph's checkpoints)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        upgrade_to_head(url)
        yield url
        return
    with fresh_database(request.getfixturevalue("postgres_server_url")) as url:
        upgrade_to_head(url)
        yield url


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
async def test_migrated_schema_matches_models(migrated_url: str) -> None:
    engine = make_engine(migrated_url)

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": _compared,
                "include_object": lambda _o, name, kind, _r, _c: _compared(name, kind, None),
            },
        )
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


def _compared(name: str | None, type_: str, _parent: object) -> bool:
    """Skip what lives outside the models: SQLite's FTS5 tables and the PostgreSQL
    expression index for memory search (alembic cannot reflect expression indexes)."""
    return not (name or "").startswith(("memories_fts", "ix_memories_fts"))
