"""Which mode this process counts in; chosen before the first metric exists (at start-up)."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import socket
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Files of live gauges name the process that wrote them: <kind>_<host>-<pid>.db
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(?P<host>[^_]+)-(?P<pid>\d+)\.db$")


def identity() -> str:
    """Unique among processes sharing the directory: pids repeat across containers, hosts do not."""
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


def share_with_other_processes(directory: Path) -> None:
    """Count into files in `directory`, read by whichever process serves /metrics.

    Must run before prometheus_client makes its first metric (`app.metrics.catalog`).
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ[ENV] = str(directory)
    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue(identity)  # type: ignore[no-untyped-call]
    _forget_dead_processes(directory)


def is_shared() -> bool:
    return bool(os.environ.get(ENV))


def forget_this_process() -> None:
    """At exit: this process's live gauges (open streams) stop counting; its counters stay."""
    if directory := os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(identity(), directory)  # type: ignore[no-untyped-call]


def _forget_dead_processes(directory: Path) -> None:
    """Live gauges of processes of this host that died without saying so (a SIGKILL)."""
    host = identity().rsplit("-", 1)[0]
    for path in glob.glob(str(directory / "gauge_live*.db")):
        found = _LIVE_GAUGE_FILE.search(os.path.basename(path))
        if found and found["host"] == host and not _alive(int(found["pid"])):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
