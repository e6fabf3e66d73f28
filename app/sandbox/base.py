"""What every code execution backend promises: limits in, a result out."""

from __future__ import annotations

import codecs
import signal
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SandboxLimits:
    wall_seconds: float = 10.0
    cpu_seconds: int = 5
    memory_mb: int = 256
    file_size_mb: int = 8
    processes: int = 32
    tmpfs_mb: int = 32
    output_bytes: int = 16_000  # per stream: stdout and stderr each


@dataclass(frozen=True)
class ExecutionResult:
    stdout: str
    stderr: str
    exit_code: int | None  # None: stopped from outside (time limit, endless output)
    timed_out: bool
    truncated: bool

    def summary(self) -> str:
        """The result as the model reads it: how the run ended, then what it printed."""
        if self.timed_out:
            lines = ["Timed out: the code was stopped at the time limit."]
        elif self.exit_code is None:
            lines = ["Stopped: the code printed far more than the output limit."]
        else:
            lines = [f"Exit code {self.exit_code}{_signal_note(self.exit_code)}."]
        if self.truncated:
            lines.append("Output truncated: only the beginning is shown.")
        for label, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text:
                lines.append(f"{label}:\n{text.rstrip()}")
        if not (self.stdout or self.stderr):
            lines.append("(no output)")
        return "\n".join(lines)


class Sandbox(Protocol):
    name: str

    async def run_python(self, code: str) -> ExecutionResult: ...


class SandboxUnavailable(Exception):
    """The backend cannot run code at all right now; the model should be told, not retried."""


def decode_output(data: bytes, truncated: bool) -> str:
    # A cut may split a UTF-8 sequence; the incremental decoder drops that partial tail
    # instead of turning it into a replacement character.
    return codecs.getincrementaldecoder("utf-8")("replace").decode(data, final=not truncated)


def _signal_note(exit_code: int) -> str:
    # Shells and bwrap report a child killed by signal N as 128 + N.
    if not 128 < exit_code < 128 + signal.NSIG:
        return ""
    try:
        name = signal.Signals(exit_code - 128).name
    except ValueError:
        return ""
    hint = {"SIGKILL": ", usually the CPU time limit", "SIGXFSZ": ", the file size limit"}
    return f" (killed by {name}{hint.get(name, '')})"
