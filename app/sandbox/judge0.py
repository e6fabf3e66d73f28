"""Python on a Judge0 server (https://judge0.com), one synchronous submission per run.

The HTTP call goes through an injected `fetch`, so the caller decides how Judge0 is reached
(Nova's egress guard, an auth header); `httpx_fetch` is the plain version for tests.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.sandbox.base import ExecutionResult, SandboxLimits, SandboxUnavailable, decode_output

log = logging.getLogger(__name__)

Fetch = Callable[[str, str, dict[str, Any]], Awaitable[tuple[int, bytes]]]
"""(method, url, json_body) -> (HTTP status, response body)."""

PYTHON_3 = 71
# wait=true holds the request while the submission queues behind others' on the server.
_QUEUE_GRACE_SECONDS = 30.0
# Judge0's stock MAX_MAX_FILE_SIZE; asking for more makes it refuse the submission (422).
_JUDGE0_MAX_FILE_SIZE_KB = 4096

_ACCEPTED, _TIME_LIMIT_EXCEEDED = 3, 5
_PENDING = {1, 2}  # In Queue, Processing: the server did not wait
_BROKEN = {13, 14}  # Internal Error, Exec Format Error: the server's fault, not the code's
_SIGNALS = {7: 11, 8: 25, 9: 8, 10: 6}  # Runtime Error (SIGSEGV, SIGXFSZ, SIGFPE, SIGABRT)


class Judge0Sandbox:
    name = "judge0"

    def __init__(self, base_url: str, fetch: Fetch, limits: SandboxLimits | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits or SandboxLimits()
        self._fetch = fetch

    async def run_python(self, code: str) -> ExecutionResult:
        limits = self.limits
        body: dict[str, Any] = {
            "source_code": base64.b64encode(code.encode("utf-8", "replace")).decode("ascii"),
            "language_id": PYTHON_3,
            "cpu_time_limit": limits.cpu_seconds,
            "wall_time_limit": limits.wall_seconds,
            "memory_limit": limits.memory_mb * 1024,
            "max_file_size": min(limits.file_size_mb * 1024, _JUDGE0_MAX_FILE_SIZE_KB),
            "max_processes_and_or_threads": limits.processes,
            "enable_network": False,
        }
        url = f"{self.base_url}/submissions?base64_encoded=true&wait=true"
        try:
            async with asyncio.timeout(limits.wall_seconds + _QUEUE_GRACE_SECONDS):
                status, raw = await self._fetch("POST", url, body)
        except TimeoutError as exc:
            raise SandboxUnavailable("Judge0 did not answer in time") from exc
        except Exception as exc:
            # Whatever the injected fetch raises (refused by egress, connection errors) means
            # the same thing to the tool: code cannot run right now.
            log.info("Judge0 request failed: %r", exc)
            raise SandboxUnavailable(f"Judge0 could not be reached: {exc}") from exc
        if status not in (200, 201):
            raise SandboxUnavailable(f"Judge0 answered HTTP {status}: {raw[:300]!r}")
        try:
            submission = json.loads(raw)
            return self._result(submission)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise SandboxUnavailable(f"Judge0 sent an answer we cannot read: {exc}") from exc

    def _result(self, submission: dict[str, Any]) -> ExecutionResult:
        status_id = int(submission["status"]["id"])
        description = str(submission["status"].get("description", ""))
        message = _text(submission.get("message"))
        if status_id in _PENDING:
            raise SandboxUnavailable("Judge0 did not wait for the result (is wait=true enabled?)")
        if status_id in _BROKEN:
            raise SandboxUnavailable(f"Judge0: {description} {message}".strip())
        cap = self.limits.output_bytes
        stdout, stdout_cut = _capped(_raw(submission.get("stdout")), cap)
        errors = _raw(submission.get("stderr")) + _raw(submission.get("compile_output"))
        if status_id not in (_ACCEPTED, _TIME_LIMIT_EXCEEDED) and (description or message):
            errors += f"\n[Judge0: {description}. {message}]".encode()
        stderr, stderr_cut = _capped(errors.lstrip(b"\n"), cap)
        return ExecutionResult(
            stdout=stdout,
            stderr=stderr,
            exit_code=_exit_code(status_id, submission.get("exit_code")),
            timed_out=status_id == _TIME_LIMIT_EXCEEDED,
            truncated=stdout_cut or stderr_cut,
        )


def _exit_code(status_id: int, reported: Any) -> int | None:
    if status_id == _TIME_LIMIT_EXCEEDED:
        return None
    if status_id in _SIGNALS:
        return 128 + _SIGNALS[status_id]  # as bwrap and shells report a signal
    if isinstance(reported, int):
        return reported  # only present when the server sends every field
    return 0 if status_id == _ACCEPTED else 1


def _raw(field: Any) -> bytes:
    # Judge0 (Ruby's Base64.encode64) breaks lines every 60 characters; b64decode skips them.
    return base64.b64decode(field) if field else b""


def _text(field: Any) -> str:
    return _raw(field).decode("utf-8", "replace").strip()


def _capped(data: bytes, cap: int) -> tuple[str, bool]:
    truncated = len(data) > cap
    return decode_output(data[:cap], truncated), truncated


async def httpx_fetch(method: str, url: str, json_body: dict[str, Any]) -> tuple[int, bytes]:
    """Straight to the network, no egress checks: for tests and an operator's own Judge0."""
    async with httpx.AsyncClient(trust_env=False, timeout=60.0) as client:
        response = await client.request(method, url, json=json_body)
        return response.status_code, response.content
