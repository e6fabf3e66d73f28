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


def open_checkpointer(database_url: str) -> AbstractAsyncContextManager[BaseCheckpointSaver[Any]]:
    if database_url.startswith("postgresql"):
        return _postgres(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    path = Path(database_url.split(":///", 1)[-1])
    return _sqlite(str(path.with_name(path.stem + "-checkpoints.db")))


@asynccontextmanager
async def _postgres(conninfo: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    async with AsyncPostgresSaver.from_conn_string(conninfo) as saver:
        await saver.setup()
        yield saver


@asynccontextmanager
async def _sqlite(path: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        await saver.setup()
        yield saver
