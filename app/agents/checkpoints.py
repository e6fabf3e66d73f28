"""LangGraph's persistent checkpointer, so a run paused for the user survives restarts.

PostgreSQL in the scaled setup (its own tables in Nova's database), SQLite next to the
embedded database otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from app.security.files import make_private_sqlite

POOL_SIZE = 10


def open_checkpointer(database_url: str) -> AbstractAsyncContextManager[BaseCheckpointSaver[Any]]:
    if database_url.startswith("postgresql"):
        return _postgres(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    path = Path(database_url.split(":///", 1)[-1])
    return _sqlite(str(path.with_name(path.stem + "-checkpoints.db")))


@asynccontextmanager
async def _postgres(conninfo: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    # A pool that checks each connection before lending it: a connection killed by the
    # server (pg_terminate_backend, a restart) is replaced instead of failing every run.
    options = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    check = AsyncConnectionPool.check_connection
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo, min_size=1, max_size=POOL_SIZE, open=False, check=check, kwargs=options
    )
    await pool.open()
    try:
        saver = AsyncPostgresSaver(conn=pool)
        await saver.setup()
        yield saver
    finally:
        await pool.close()


@asynccontextmanager
async def _sqlite(path: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    make_private_sqlite(Path(path))
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        await saver.setup()
        yield saver
