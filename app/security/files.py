"""Nova's files are private to the account that runs it: directories 0700, files 0600.

The `nova` command sets PRIVATE_UMASK, so whatever a library creates (SQLite's -wal, -shm
and -journal files, LangGraph's checkpoint database) is private too. The helpers here make
Nova's own files private even without it (an app served by another ASGI runner), and
tighten files an older Nova left open to others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_dir(path: Path) -> None:
    """Create the directory 0700 if missing; tighten it if it is ours and open to others.

    A shared directory (sticky, like /tmp) or one owned by someone else is left alone.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o077 and not info.st_mode & stat.S_ISVTX:
        path.chmod(0o700)


def make_private_sqlite(path: Path) -> None:
    """Create the SQLite database file 0600 before SQLite opens it.

    SQLite gives its -wal, -shm and -journal files the database file's permissions, so
    they are private too. The directory is created 0700 if missing, but an existing one
    (the database may live anywhere DATABASE_URL says) is not changed.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for name in (path.name, *(path.name + suffix for suffix in SQLITE_COMPANIONS)):
        _tighten(path.with_name(name))


def _tighten(path: Path) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.geteuid() and info.st_mode & 0o077:
        path.chmod(0o600)
