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
    expression indexes for memory and thread search (alembic cannot reflect expression indexes)."""
    skipped = ("memories_fts", "ix_memories_fts", "thread_search_fts", "ix_threads_fts", "ix_messages_fts")
    return not (name or "").startswith(skipped)


def test_upgrading_an_old_sqlite_database_keeps_every_row(tmp_path: Path) -> None:
    """Batch mode rebuilds SQLite tables; with foreign keys on, dropping the old `threads`
    or `runs` cascaded into every message (0006 emptied them). Rows written at 0005 must
    all be there at head."""
    import sqlite3
    import uuid

    from alembic import command

    from app.migrate import alembic_config

    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0005")
    user, thread, run, now = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex, "2026-11-01 10:00:00.000000"
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO users (id, email, password_hash, role, is_active, timezone, created_at) "
                   "VALUES (?, 'ada@example.com', 'x', 'user', 1, 'UTC', ?)", (user, now))  # fmt: skip
        db.execute("INSERT INTO threads (id, owner_id, title, created_at, updated_at) VALUES (?, ?, 'T', ?, ?)",
                   (thread, user, now, now))  # fmt: skip
        db.execute("INSERT INTO runs (id, owner_id, thread_id, status, attempts, created_at) "
                   "VALUES (?, ?, ?, 'completed', 1, ?)", (run, user, thread, now))  # fmt: skip
        for role, run_id in (("user", None), ("assistant", run)):
            db.execute("INSERT INTO messages (id, thread_id, role, content, run_id, created_at) "
                       "VALUES (?, ?, ?, 'hi', ?, ?)", (uuid.uuid4().hex, thread, role, run_id, now))  # fmt: skip
    db.close()
    command.upgrade(config, "head")
    with sqlite3.connect(path) as db:
        tables = ("threads", "runs", "messages")
        counts = [db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables]  # noqa: S608
        linked = db.execute("SELECT count(*) FROM messages WHERE run_id IS NOT NULL").fetchone()[0]
        broken = db.execute("PRAGMA foreign_key_check").fetchall()
    db.close()
    assert counts == [1, 1, 2] and linked == 1 and broken == []
