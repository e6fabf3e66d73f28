"""LangGraph's persistent checkpointer, so a run paused for the user survives restarts.

PostgreSQL in the scaled setup (its own tables in Nova's database), SQLite next to the
embedded database otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from app.security.files import make_private_sqlite

POOL_SIZE = 10
# Workers starting together on a new database would all create the checkpoint tables at
# once (PostgreSQL refuses the second CREATE): an advisory lock lets one go first.
SETUP_LOCK_KEY = 0x4E6F7661  # "Nova"
SETUP_LOCK_TRIES = 600  # a minute


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
        async with pool.connection() as lock:
            await _take_setup_lock(lock)
            try:
                await saver.setup()  # a no-op for every process after the first
            finally:
                await lock.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))
        yield saver
    finally:
        await pool.close()


async def _take_setup_lock(connection: Any) -> None:
    """Polled, not waited for in a statement: a waiting statement holds a snapshot, which the
    setup's CREATE INDEX CONCURRENTLY in the process that holds the lock would wait for."""
    for _attempt in range(SETUP_LOCK_TRIES):
        row = await (await connection.execute("SELECT pg_try_advisory_lock(%s) AS taken", (SETUP_LOCK_KEY,))).fetchone()
        if row["taken"]:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("Another Nova process has been creating the checkpoint tables for too long.")


@asynccontextmanager
async def _sqlite(path: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    make_private_sqlite(Path(path))
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        await saver.setup()
        yield saver
