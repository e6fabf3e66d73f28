"""Whether this process is shutting down: `nova serve` got SIGTERM or SIGINT (plumbing).

Set by the signal handler, before uvicorn closes the connections still open, so a request
cut short by the shutdown can be told from a client that went away: an MCP call's run is
then left to finish on its worker instead of being stopped as a cancelled call would.
"""

from __future__ import annotations

_requested = False


def request() -> None:
    global _requested
    _requested = True


def requested() -> bool:
    return _requested
