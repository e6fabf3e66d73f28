"""Python in a throwaway bubblewrap container on this machine.

The command is `prlimit … -- setpriv … -- bwrap … -- python3 -I -u -`, in that order:
- prlimit first, while still root, so the limits are set before anything else runs and
  nothing later (all unprivileged) can raise them again.
- setpriv next: RLIMIT_NPROC is not enforced for root, so the process-count limit only holds
  once the real uid is unprivileged. bwrap, now unprivileged, builds its own user namespace
  (kernel user namespaces must be enabled; `--disable-userns` needs `--unshare-user`).
- bwrap last, with `--uid 65534`: inside, the code sees nobody, without capabilities.

RLIMIT_NPROC counts every process of a uid across the machine, user namespaces included: with
one shared uid, a fork bomb in one run kept every other run from even starting (measured), and
any service running as nobody would eat into the budget. So each run drops to its own uid,
drawn from a range no account uses; drawing at random keeps runs from different Nova
processes on one host apart too (two concurrent runs collide with odds ~1 in a million).

The program goes in on stdin, not `-c`: no argument-length limit, and other users of the
host cannot read it in /proc/PID/cmdline.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator

from app.sandbox.base import ExecutionResult, SandboxLimits, SandboxUnavailable, decode_output
from app.sandbox.seccomp import memory_hole_filter

log = logging.getLogger(__name__)

# Outside systemd's documented ranges (containers end at 1879048191) and below 2**31.
UID_RANGE = range(1_900_000_000, 1_900_000_000 + 2**20)
SANDBOX_UID = 65534  # what the code sees inside: nobody
_SANDBOX_TMP = "/tmp"  # noqa: S108 - a private tmpfs inside the sandbox, not the host's /tmp
_PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/local/bin/python3")
_TOOLS = ("prlimit", "setpriv", "bwrap")
_MB = 1024 * 1024
_READ_CHUNK = 65536
# Output past the cap is read and thrown away, so a chatty program still finishes with its
# own exit code; one that keeps printing past this much more is stopped instead of being
# read at full speed by Nova's event loop until the wall limit.
_DRAIN_BYTES = 4 * _MB
# The outer chain (prlimit, setpriv, bwrap) must not inherit Nova's secrets from its environment.
_OUTER_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

_probe_results: dict[str, bool] = {}
_uids_in_use: set[int] = set()


def find_system_python() -> str | None:
    """Only an interpreter under /usr exists inside the sandbox; the venv's does not."""
    for candidate in _PYTHON_CANDIDATES:
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate).startswith("/usr/"):
            return candidate
    return None


class BubblewrapSandbox:
    name = "bubblewrap"

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        python: str | None = None,
        *,
        max_concurrent: int = 4,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.python = python or find_system_python() or _PYTHON_CANDIDATES[0]
        if not os.path.realpath(self.python).startswith("/usr/"):
            raise ValueError(f"{self.python} is outside /usr, so it is not visible in the sandbox")
        self._tools = {tool: shutil.which(tool) or tool for tool in _TOOLS}
        # Each run may hold processes x memory: this bounds how many do at once.
        self._slots = asyncio.Semaphore(max_concurrent)

    @classmethod
    def available(cls, python: str | None = None) -> bool:
        """The tools exist and a trivial program really runs: probed once, blocking."""
        key = python or find_system_python() or ""
        if key not in _probe_results:
            _probe_results[key] = cls._probe(key)
        return _probe_results[key]

    @classmethod
    def _probe(cls, python: str) -> bool:
        if not python or not all(shutil.which(tool) for tool in _TOOLS):
            return False
        try:
            sandbox = cls(python=python)
            with _own_uid() as uid, _seccomp_pipe() as seccomp_fd:
                completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
                    sandbox.command(uid, seccomp_fd),
                    input=b"print(6 * 7)",
                    capture_output=True,
                    env=_OUTER_ENV,
                    timeout=30,
                    pass_fds=_fds(seccomp_fd),
                    check=False,
                )
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            log.warning("Bubblewrap sandbox unavailable: %s", exc)
            return False
        if completed.returncode != 0 or completed.stdout.strip() != b"42":
            log.warning("Bubblewrap sandbox unavailable: %s", completed.stderr[-500:].decode(errors="replace"))
            return False
        return True

    def command(self, uid: int, seccomp_fd: int | None) -> list[str]:
        limits = self.limits
        argv = [
            self._tools["prlimit"],
            f"--cpu={limits.cpu_seconds}",
            f"--as={limits.memory_mb * _MB}",
            f"--fsize={limits.file_size_mb * _MB}",
            f"--nproc={limits.processes}",
            "--nofile=64",
            "--core=0",
            "--",
            self._tools["setpriv"],
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--",
            self._tools["bwrap"],
            "--unshare-all",
            "--unshare-user",
            # Nested user namespaces would let the code mount a tmpfs of any size.
            "--disable-userns",
            *("--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)),
            *("--hostname", "sandbox"),
            "--die-with-parent",
            "--new-session",
            *("--ro-bind", "/usr", "/usr"),
            *_root_entries(),
            *("--proc", "/proc", "--dev", "/dev"),
            *("--size", str(limits.tmpfs_mb * _MB), "--tmpfs", _SANDBOX_TMP),
            # bwrap's root and /dev are tmpfs without a size: writable, they would bypass
            # the /tmp limit. Device nodes stay writable on a read-only mount.
            *("--remount-ro", "/dev", "--remount-ro", "/"),
            *("--chdir", _SANDBOX_TMP, "--clearenv"),
            *("--setenv", "PATH", "/usr/bin", "--setenv", "HOME", _SANDBOX_TMP),
        ]
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        # -u: what was printed before a kill still reaches us.
        return [*argv, "--", self.python, "-I", "-u", "-"]

    async def run_python(self, code: str) -> ExecutionResult:
        async with self._slots:
            with _own_uid() as uid:
                return await self._run(code, uid)

    async def _run(self, code: str, uid: int) -> ExecutionResult:
        with _seccomp_pipe() as seccomp_fd:
            try:
                process = await asyncio.create_subprocess_exec(
                    *self.command(uid, seccomp_fd),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    env=_OUTER_ENV,
                    # Its own process group, so a kill reaches the whole outer chain.
                    start_new_session=True,
                    pass_fds=_fds(seccomp_fd),
                )
            except OSError as exc:
                raise SandboxUnavailable(f"Cannot start the sandbox: {exc}") from exc
        return await _supervise(process, code.encode("utf-8", "replace"), self.limits)


async def _supervise(process: asyncio.subprocess.Process, code: bytes, limits: SandboxLimits) -> ExecutionResult:
    assert process.stdin and process.stdout and process.stderr
    stopped = False

    def stop() -> None:
        nonlocal stopped
        stopped = True
        _kill(process)

    out = _Capture(limits.output_bytes, stop)
    err = _Capture(limits.output_bytes, stop)
    timed_out = False
    try:
        async with asyncio.timeout(limits.wall_seconds):
            await asyncio.gather(_feed(process.stdin, code), out.pump(process.stdout), err.pump(process.stderr))
            await process.wait()
    except TimeoutError:
        timed_out = True
        stop()
        await process.wait()
    except BaseException:
        stop()  # abandoned (cancelled): the sandbox must not outlive its caller
        raise
    return ExecutionResult(
        stdout=out.text(),
        stderr=err.text(),
        exit_code=None if stopped else process.returncode,
        timed_out=timed_out,
        truncated=out.truncated or err.truncated,
    )


def _kill(process: asyncio.subprocess.Process) -> None:
    # The outer bwrap is the group; everything inside dies with it (--die-with-parent kills
    # the namespace's init, and the kernel then kills the rest of the PID namespace).
    if process.returncode is not None:
        return  # already reaped: the group id may belong to someone else by now
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


async def _feed(stdin: asyncio.StreamWriter, code: bytes) -> None:
    # A sandbox that dies before reading it all (a limit, a setup error) reports that itself.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        try:
            stdin.write(code)
            await stdin.drain()
        finally:
            stdin.close()


class _Capture:
    def __init__(self, cap: int, on_flood: Callable[[], None]) -> None:
        self._cap = cap
        self._on_flood = on_flood
        self._kept = bytearray()
        self._seen = 0

    @property
    def truncated(self) -> bool:
        return self._seen > len(self._kept)

    async def pump(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_READ_CHUNK):
            self._seen += len(chunk)
            room = self._cap - len(self._kept)
            if room > 0:
                self._kept += chunk[:room]
            if self._seen > self._cap + _DRAIN_BYTES:
                self._on_flood()
                return

    def text(self) -> str:
        return decode_output(bytes(self._kept), self.truncated)


def _root_entries() -> list[str]:
    """/lib, /lib64, /bin as the host has them: merged-/usr symlinks, or real directories."""
    entries: list[str] = []
    for path in ("/lib", "/lib64", "/bin"):
        if os.path.islink(path):
            entries += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            entries += ["--ro-bind", path, path]
    if os.path.isdir("/etc/alternatives"):  # Debian's /usr/bin links through it
        entries += ["--ro-bind", "/etc/alternatives", "/etc/alternatives"]
    return entries


@contextlib.contextmanager
def _own_uid() -> Iterator[int]:
    while (uid := UID_RANGE[secrets.randbelow(len(UID_RANGE))]) in _uids_in_use:
        pass
    _uids_in_use.add(uid)
    try:
        yield uid
    finally:
        _uids_in_use.discard(uid)


@contextlib.contextmanager
def _seccomp_pipe() -> Iterator[int | None]:
    """bwrap reads the compiled filter from a file descriptor; a pipe holds it (~100 bytes)."""
    program = _seccomp_program()
    if program is None:
        yield None
        return
    read_end, write_end = os.pipe()
    try:
        try:
            os.write(write_end, program)
        finally:
            os.close(write_end)
        yield read_end
    finally:
        os.close(read_end)


@functools.cache
def _seccomp_program() -> bytes | None:
    program = memory_hole_filter()
    if program is None:
        log.warning("No seccomp filter for this architecture: SysV IPC and memfd stay usable")
    return program


def _fds(fd: int | None) -> tuple[int, ...]:
    return () if fd is None else (fd,)
