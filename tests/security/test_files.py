"""Nova's own files are private even when the process umask would let others read them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.agents.checkpoints import open_checkpointer
from app.db import make_engine
from app.security.files import make_private_dir


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask of a careless service manager: new files 0644, directories 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(directory: Path, prefix: str) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir() if p.name.startswith(prefix)}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_sqlite_database_and_its_wal_and_shm_files_are_0600(tmp_path: Path, open_umask: None) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'nova.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            found = modes(tmp_path / "fresh", "nova.db")
    finally:
        await engine.dispose()
    assert {"nova.db", "nova.db-wal", "nova.db-shm"} <= set(found)
    assert set(found.values()) == {0o600}, found
    assert mode(tmp_path / "fresh") == 0o700


def test_an_older_open_database_is_tightened_but_not_its_directory(tmp_path: Path, open_umask: None) -> None:
    home = tmp_path / "home"  # DATABASE_URL may point anywhere, like a home directory
    home.mkdir(mode=0o755)
    database = home / "nova.db"
    database.touch(mode=0o644)
    make_engine(f"sqlite+aiosqlite:///{database}").sync_engine.dispose()
    assert mode(database) == 0o600
    assert mode(home) == 0o755


async def test_langgraph_checkpoint_database_is_0600(tmp_path: Path, open_umask: None) -> None:
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'nova.db'}") as saver:
        assert saver is not None
        found = modes(tmp_path, "nova-checkpoints.db")
    assert "nova-checkpoints.db" in found
    assert set(found.values()) == {0o600}, found


def test_data_directory_is_made_private_but_shared_ones_are_left_alone(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    make_private_dir(data)
    make_private_dir(tmp_path / "new" / "data")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    make_private_dir(shared)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
