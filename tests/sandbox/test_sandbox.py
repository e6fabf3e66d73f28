"""Code execution: every limit checked against the real bubblewrap sandbox, Judge0's HTTP shape
against a scripted local server."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.sandbox import (
    BubblewrapSandbox,
    ExecutionResult,
    Judge0Sandbox,
    SandboxLimits,
    SandboxUnavailable,
    choose_sandbox,
    httpx_fetch,
)

ROOT = Path(__file__).resolve().parents[2]

MakeSandbox = Callable[..., BubblewrapSandbox]


@pytest.fixture(scope="module")
def make_sandbox() -> MakeSandbox:
    """A sandbox with the default limits, or some changed: `make_sandbox(wall_seconds=2)`."""
    if not BubblewrapSandbox.available():
        message = "the bubblewrap sandbox does not run here (bwrap, prlimit, setpriv, root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; it is required under CI")
        pytest.skip(message)

    def make(**limits: Any) -> BubblewrapSandbox:
        return BubblewrapSandbox(dataclasses.replace(SandboxLimits(), **limits))

    return make


async def run(make_sandbox: MakeSandbox, code: str, **limits: Any) -> ExecutionResult:
    return await make_sandbox(**limits).run_python(dedent(code))


async def test_prints_and_exit_codes(make_sandbox: MakeSandbox) -> None:
    ok = await run(make_sandbox, "print('hello', 6 * 7)")
    assert ok == ExecutionResult("hello 42\n", "", 0, timed_out=False, truncated=False)
    failed = await run(make_sandbox, "import sys\nprint('bye')\nsys.exit(3)")
    assert (failed.stdout, failed.exit_code) == ("bye\n", 3)
    assert failed.summary().startswith("Exit code 3.")


async def test_exceptions_go_to_stderr(make_sandbox: MakeSandbox) -> None:
    result = await run(make_sandbox, "raise ValueError('boom')")
    assert result.exit_code == 1
    assert "ValueError: boom" in result.stderr
    assert "stderr:\nTraceback" in result.summary()


async def test_no_network(make_sandbox: MakeSandbox) -> None:
    received: list[bytes] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(100))
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await run(
            make_sandbox,
            f"""
            import socket
            for address in [("127.0.0.1", {port}), ("1.1.1.1", 53), ("8.8.8.8", 443)]:
                try:
                    socket.create_connection(address, timeout=2).sendall(b"escaped")
                    print("CONNECTED", address)
                except OSError as exc:
                    print("blocked", address, type(exc).__name__)
            try:
                socket.getaddrinfo("example.com", 443)
                print("RESOLVED")
            except OSError as exc:
                print("no dns", type(exc).__name__)
            print("interfaces", [name for _, name in socket.if_nameindex()])
            """,
        )
        await asyncio.sleep(0.2)
    assert result.stdout.count("blocked") == 3, result
    assert "no dns" in result.stdout
    assert "interfaces ['lo']" in result.stdout
    assert received == []


async def test_filesystem_is_read_only_and_the_project_invisible(
    make_sandbox: MakeSandbox,
) -> None:
    targets = ["/usr/x", "/etc/x", "/x", "/work/x", f"{ROOT}/x", "/dev/x", "/dev/shm/x", "/bin/x"]
    result = await run(
        make_sandbox,
        f"""
        import os
        for path in {targets!r}:
            try:
                open(path, "w").close()
                print("WROTE", path)
            except OSError as exc:
                print("refused", path, exc.strerror)
        print("visible", os.path.exists("/work"), os.path.exists({str(ROOT)!r}))
        print("root", sorted(os.listdir("/")))
        open("/dev/null", "w").write("devices still work")
        """,
    )
    assert result.exit_code == 0, result
    assert "WROTE" not in result.stdout
    assert result.stdout.count("refused") == len(targets)
    assert "visible False False" in result.stdout
    assert "'root'" not in result.stdout and "'work'" not in result.stdout
    assert not (ROOT / "x").exists()


async def test_tmp_is_writable_but_small(make_sandbox: MakeSandbox) -> None:
    result = await run(
        make_sandbox,
        """
        import os
        with open("/tmp/small", "wb") as f:
            f.write(b"a" * 1_000_000)
        print("small ok", os.path.getsize("/tmp/small"))
        written = 0
        try:
            for i in range(20):
                with open(f"/tmp/part{i}", "wb") as f:  # each under the file size limit
                    f.write(b"a" * 6_000_000)
                written += 6
        except OSError as exc:
            print("full after", written, "MB:", exc.strerror)
        """,
    )
    assert "small ok 1000000" in result.stdout, result
    assert "No space left on device" in result.stdout
    written = int(result.stdout.split("full after ")[1].split()[0])
    assert written <= 32


async def test_file_size_limit(make_sandbox: MakeSandbox) -> None:
    result = await run(
        make_sandbox,
        """
        import os
        try:
            with open("/tmp/big", "wb") as f:
                f.write(b"a" * (64 << 20))
        except OSError as exc:
            print(exc.strerror, os.path.getsize("/tmp/big"))
        """,
    )
    assert result.stdout == f"File too large {8 << 20}\n", result


async def test_memory_limit(make_sandbox: MakeSandbox) -> None:
    result = await run(
        make_sandbox,
        """
        small = bytearray(100 << 20)
        print("100 MB ok", flush=True)
        big = bytearray(1 << 30)
        print("ALLOCATED 1 GB")
        """,
    )
    assert "100 MB ok" in result.stdout, result
    assert "ALLOCATED" not in result.stdout
    assert result.exit_code != 0
    assert "MemoryError" in result.stderr


async def test_memory_outside_rlimits_is_refused(make_sandbox: MakeSandbox) -> None:
    """SysV IPC, memfd and nested user namespaces (a tmpfs of any size) all fail."""
    result = await run(
        make_sandbox,
        """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        print("shmget", libc.shmget(0, 200 << 20, 0o1000 | 0o600))
        print("msgget", libc.msgget(0, 0o1000 | 0o600))
        print("unshare", libc.unshare(0x10000000))  # CLONE_NEWUSER
        try:
            os.memfd_create("x")
            print("MEMFD")
        except OSError as exc:
            print("memfd", exc.strerror)
        """,
    )
    assert result.stdout.splitlines() == [
        "shmget -1",
        "msgget -1",
        "unshare -1",
        "memfd Operation not permitted",
    ], result


async def test_busy_loop_is_stopped_by_the_cpu_limit(make_sandbox: MakeSandbox) -> None:
    limits = SandboxLimits()
    started = time.monotonic()
    result = await run(make_sandbox, "print('spinning', flush=True)\nwhile True: pass")
    elapsed = time.monotonic() - started
    assert elapsed < limits.wall_seconds + 2
    assert result.exit_code == 137 or result.timed_out, result
    assert not result.timed_out  # the CPU limit (5 s) comes before the wall limit (10 s)
    assert result.stdout == "spinning\n"
    assert "SIGKILL" in result.summary()


async def test_wall_limit_kills_and_keeps_earlier_output(make_sandbox: MakeSandbox) -> None:
    started = time.monotonic()
    result = await run(make_sandbox, "import time\nprint('started')\ntime.sleep(60)", wall_seconds=1.5)
    assert time.monotonic() - started < 3.5
    assert result.timed_out and result.exit_code is None
    assert result.stdout == "started\n"
    assert result.summary().startswith("Timed out")


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


async def test_fork_loop_hits_the_process_limit_and_leaves_nothing(
    make_sandbox: MakeSandbox,
) -> None:
    marker = f"nova-sandbox-test-{uuid.uuid4().hex}"
    result = await run(
        make_sandbox,
        f"""
        import os, sys, time
        forks = 0
        while True:
            try:
                pid = os.fork()
            except OSError as exc:
                print("fork refused:", exc.strerror)
                break
            if pid == 0:
                try:
                    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "{marker}"])
                finally:
                    os._exit(1)
            forks += 1
        print("forks", forks, flush=True)
        time.sleep(60)
        """,
        wall_seconds=3,
    )
    assert result.timed_out, result
    assert "fork refused: Resource temporarily unavailable" in result.stdout
    assert 0 < int(result.stdout.split("forks ")[1].split()[0]) < SandboxLimits().processes
    for _ in range(60):  # the namespace's processes die just after the outer bwrap
        if not processes_with(marker):
            break
        await asyncio.sleep(0.05)
    assert processes_with(marker) == []


async def test_fork_bomb_is_contained(make_sandbox: MakeSandbox) -> None:
    bomb_code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    started = time.monotonic()
    bomb = asyncio.create_task(make_sandbox(wall_seconds=3).run_python(bomb_code))
    await asyncio.sleep(1)
    # Another run has its own uid, so its own process budget: the bomb cannot starve it.
    alongside = await run(make_sandbox, "print('alongside')")
    result = await bomb
    assert time.monotonic() - started < 5
    assert result.timed_out
    assert alongside.stdout == "alongside\n", alongside
    after = await run(make_sandbox, "import os\nprint(len(os.listdir('/proc')) > 0)")
    assert after.stdout == "True\n"
    host = await asyncio.create_subprocess_exec("true")
    assert await host.wait() == 0


async def test_an_abandoned_run_leaves_nothing(make_sandbox: MakeSandbox) -> None:
    marker = f"nova-sandbox-test-{uuid.uuid4().hex}"
    code = f"""
        import os, sys
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "{marker}"])
        """
    task = asyncio.create_task(run(make_sandbox, code))
    for _ in range(40):
        await asyncio.sleep(0.05)
        if processes_with(marker):
            break
    assert processes_with(marker), "the sandboxed program never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(60):
        if not processes_with(marker):
            break
        await asyncio.sleep(0.05)
    assert processes_with(marker) == []


async def test_output_is_capped(make_sandbox: MakeSandbox) -> None:
    limit = SandboxLimits().output_bytes
    result = await run(make_sandbox, "print('x' * 1_000_000)\nprint('done')")
    assert result.truncated and result.exit_code == 0
    assert result.stdout == "x" * limit
    assert "truncated" in result.summary()

    started = time.monotonic()
    endless = await run(make_sandbox, "while True: print('y' * 1000)")
    assert time.monotonic() - started < 5  # stopped for its output, not at the wall limit
    assert endless.truncated and endless.exit_code is None and not endless.timed_out
    assert len(endless.stdout.encode()) <= limit


async def test_multibyte_output_is_cut_on_a_character(make_sandbox: MakeSandbox) -> None:
    result = await run(make_sandbox, "print('é' * 20_000)", output_bytes=1001)
    assert result.truncated and result.stdout == "é" * 500


async def test_environment_is_clean(make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOVA_SECRET_KEY", "do-not-leak")
    result = await run(
        make_sandbox,
        """
        import json, os
        status = open("/proc/self/status").read()
        capabilities = [line for line in status.splitlines() if line.startswith("CapEff")]
        print(json.dumps({"env": dict(os.environ), "uid": os.getuid(), "gid": os.getgid(),
                          "groups": os.getgroups(), "caps": capabilities, "pid": os.getpid()}))
        """,
    )
    seen = json.loads(result.stdout)
    assert "do-not-leak" not in result.stdout
    assert not any(name.startswith("NOVA_") for name in seen["env"])
    assert seen["env"]["HOME"] == "/tmp" and seen["env"]["PATH"] == "/usr/bin"
    assert (seen["uid"], seen["gid"], seen["groups"]) == (65534, 65534, [])
    assert seen["caps"] == ["CapEff:\t0000000000000000"]
    assert seen["pid"] < 10  # its own PID namespace


async def test_choose_sandbox_prefers_judge0_then_bubblewrap(make_sandbox: MakeSandbox) -> None:
    limits = SandboxLimits(wall_seconds=3)
    judge0 = choose_sandbox("http://judge0.test/", limits, httpx_fetch)
    assert isinstance(judge0, Judge0Sandbox) and judge0.base_url == "http://judge0.test"
    local = choose_sandbox(None, limits, httpx_fetch)
    assert isinstance(local, BubblewrapSandbox) and local.limits == limits


def test_interpreter_must_be_visible_inside() -> None:
    with pytest.raises(ValueError, match="outside /usr"):
        BubblewrapSandbox(python="/opt/python/bin/python3")


# Judge0: a scripted server that answers the way Judge0 does with base64_encoded=true.


@dataclasses.dataclass
class ScriptedJudge0:
    port: int = 0
    answers: list[tuple[int, dict[str, Any]]] = dataclasses.field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def b64(text: str) -> str:
    return base64.encodebytes(text.encode()).decode()  # with Ruby's line breaks


def submission(status: int, description: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"stdout": None, "stderr": None, "compile_output": None, "message": None}
    body.update({key: b64(value) if isinstance(value, str) else value for key, value in fields.items()})
    body["status"] = {"id": status, "description": description}
    return {**body, "time": "0.02", "memory": 3100, "token": str(uuid.uuid4())}


@pytest.fixture(scope="module")
def judge0() -> Iterator[ScriptedJudge0]:
    state = ScriptedJudge0()

    async def submissions(request: Request) -> JSONResponse:
        state.requests.append((str(request.url), await request.json()))
        status, body = state.answers.pop(0)
        return JSONResponse(body, status_code=status)

    app = Starlette(routes=[Route("/submissions", submissions, methods=["POST"])])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        state.port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=state.port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "scripted Judge0 did not start"
        time.sleep(0.01)
    yield state
    server.should_exit = True
    thread.join(timeout=5)


async def test_judge0_submission_and_accepted_result(judge0: ScriptedJudge0) -> None:
    judge0.answers.append((201, submission(3, "Accepted", stdout="héllo\n" * 20)))
    result = await Judge0Sandbox(judge0.url + "/", httpx_fetch).run_python("print('héllo')")
    assert result == ExecutionResult("héllo\n" * 20, "", 0, timed_out=False, truncated=False)
    url, body = judge0.requests[-1]
    assert url == f"{judge0.url}/submissions?base64_encoded=true&wait=true"
    assert base64.b64decode(body["source_code"]).decode() == "print('héllo')"
    assert body["language_id"] == 71 and body["enable_network"] is False
    assert (body["cpu_time_limit"], body["wall_time_limit"]) == (5, 10.0)
    assert (body["memory_limit"], body["max_processes_and_or_threads"]) == (256 * 1024, 32)
    assert body["max_file_size"] == 4096


async def test_judge0_time_limit_exceeded(judge0: ScriptedJudge0) -> None:
    judge0.answers.append((201, submission(5, "Time Limit Exceeded", stdout="partial\n")))
    result = await Judge0Sandbox(judge0.url, httpx_fetch).run_python("while True: pass")
    assert result.timed_out and result.exit_code is None
    assert result.stdout == "partial\n"
    assert result.summary().startswith("Timed out")


async def test_judge0_runtime_errors(judge0: ScriptedJudge0) -> None:
    judge0.answers += [
        (
            201,
            submission(
                11,
                "Runtime Error (NZEC)",
                stderr="Traceback ...\nValueError: boom\n",
                message="Exited with error status 1",
            ),
        ),
        (201, submission(7, "Runtime Error (SIGSEGV)")),
        (201, submission(3, "Accepted", stdout="x" * 50_000)),
    ]
    sandbox = Judge0Sandbox(judge0.url, httpx_fetch)
    nzec = await sandbox.run_python("raise ValueError('boom')")
    assert nzec.exit_code == 1 and "ValueError: boom" in nzec.stderr
    assert "[Judge0: Runtime Error (NZEC). Exited with error status 1]" in nzec.stderr
    segv = await sandbox.run_python("import ctypes; ctypes.string_at(0)")
    assert segv.exit_code == 139 and "SIGSEGV" in segv.summary()
    flood = await sandbox.run_python("print('x' * 50_000)")
    assert flood.truncated and len(flood.stdout) == SandboxLimits().output_bytes


async def test_judge0_failures_are_unavailable(judge0: ScriptedJudge0) -> None:
    sandbox = Judge0Sandbox(judge0.url, httpx_fetch)
    judge0.answers.append((422, {"max_file_size": ["must be less than or equal to 4096"]}))
    with pytest.raises(SandboxUnavailable, match="HTTP 422"):
        await sandbox.run_python("print(1)")
    judge0.answers.append((201, {"token": "only-a-token"}))
    with pytest.raises(SandboxUnavailable, match="cannot read"):
        await sandbox.run_python("print(1)")
    judge0.answers.append((201, submission(13, "Internal Error", message="isolate failed")))
    with pytest.raises(SandboxUnavailable, match="Internal Error isolate failed"):
        await sandbox.run_python("print(1)")
    unreachable = Judge0Sandbox("http://127.0.0.1:1", httpx_fetch)
    with pytest.raises(SandboxUnavailable, match="could not be reached"):
        await unreachable.run_python("print(1)")
