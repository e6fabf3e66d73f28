"""Code execution for the `python_exec` tool: a Judge0 server, or bubblewrap on this machine."""

from app.sandbox.base import ExecutionResult, Sandbox, SandboxLimits, SandboxUnavailable
from app.sandbox.bubblewrap import BubblewrapSandbox
from app.sandbox.judge0 import Fetch, Judge0Sandbox, httpx_fetch

__all__ = [
    "BubblewrapSandbox",
    "ExecutionResult",
    "Fetch",
    "Judge0Sandbox",
    "Sandbox",
    "SandboxLimits",
    "SandboxUnavailable",
    "choose_sandbox",
    "httpx_fetch",
]


def choose_sandbox(judge0_url: str | None, limits: SandboxLimits, fetch: Fetch) -> Sandbox | None:
    """Judge0 when configured, else bubblewrap when it works here, else None: no code execution.

    Probing bubblewrap blocks for a moment the first time; call this at startup.
    """
    if judge0_url:
        return Judge0Sandbox(judge0_url, fetch, limits)
    if BubblewrapSandbox.available():
        return BubblewrapSandbox(limits)
    return None
