"""Starting an admin's stdio MCP server: an argv (never a shell), only the environment the admin
set (plus PATH, HOME and LANG), in a working directory of its own.

Each connection starts the program and stops it when it closes (the MCP client closes its stdin,
then signals its whole process group), so no server outlives the call, the run's deadline or Stop.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
ENV_PROGRAM = "/usr/bin/env"
STDERR_TAIL = 300  # characters of the program's stderr added to an error


def child_environment(env: Mapping[str, str], cwd: str) -> dict[str, str]:
    """What the program sees: a minimal PATH, HOME (its own directory), LANG, and the admin's values."""
    return {"PATH": BASE_PATH, "HOME": cwd, "LANG": "C.UTF-8", **env}


def argv(command: str, args: Sequence[str], environment: Mapping[str, str]) -> tuple[str, list[str]]:
    """The program to start and its arguments.

    The MCP client adds a few of Nova's own variables (USER, SHELL, TERM...) to any environment
    it is given; `env -u` takes them back out before the server starts. Only names go on its
    command line, never values; commands never contain "=" (validated), so env cannot read one
    as an assignment.
    """
    from mcp.client.stdio import DEFAULT_INHERITED_ENV_VARS

    inherited = [name for name in DEFAULT_INHERITED_ENV_VARS if name not in environment]
    if not inherited or not os.access(ENV_PROGRAM, os.X_OK):
        return command, list(args)
    return ENV_PROGRAM, [*(flag for name in inherited for flag in ("-u", name)), "--", command, *args]


def transport(command: str, args: Sequence[str], env: Mapping[str, str], cwd: str, stderr: TextIO) -> Any:
    """A fastmcp stdio transport that starts the program for one connection only."""
    from fastmcp.client.transports import StdioTransport

    # Made here when missing (another machine's worker, a fresh data directory): only its owner may enter.
    Path(cwd).mkdir(mode=0o700, parents=True, exist_ok=True)
    environment = child_environment(env, cwd)
    program, arguments = argv(command, args, environment)
    return StdioTransport(program, arguments, env=environment, cwd=cwd, keep_alive=False, log_file=stderr)


@contextmanager
def stderr_log() -> Iterator[TextIO]:
    """A file for the program's stderr (a pipe could fill up and stall it), read back on failure."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as file:
        yield file


def stderr_tail(file: TextIO, secrets: Sequence[str]) -> str:
    """The end of what the program wrote to stderr, secrets masked: why it failed, for the admin."""
    try:
        file.seek(0)
        text = file.read()[-20000:]
    except (OSError, ValueError):
        return ""
    for secret in secrets:
        text = text.replace(secret, "•••")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    tail = " / ".join(lines)[-STDERR_TAIL:]
    return f" Its stderr: {tail}" if tail else ""
