"""The stdio server's process: only the admin's environment, its own directory, and gone after
a call whatever happened (answered, hung past the timeout, cancelled by Stop, crashed)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from app.agents.tools.context import ToolFailure
from app.agents.tools.mcp import SYSTEM_PREFIX, McpServerConfig, call_tool, list_tools
from app.egress import EgressPolicy
from app.mcp_servers import service

PROBE = str(Path(__file__).resolve().parents[1] / "fixtures" / "stdio_probe_server.py")
POLICY = EgressPolicy.from_settings([], [])
NOVA_SECRETS = {
    "NOVA_SECRET_KEY": "nova-session-signing-key-123", "NOVA_ENCRYPTION_KEY": "nova-fernet-key-456",
    "DATABASE_URL": "postgresql://nova:db-password-789@db/nova", "REDIS_URL": "redis://:redis-pass-012@redis:6379",
    "S3_SECRET_ACCESS_KEY": "s3-secret-345", "AWS_SECRET_ACCESS_KEY": "aws-secret-678",
}  # fmt: skip


def probe(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> McpServerConfig:
    cwd = tmp_path / "probe-home"
    return McpServerConfig("probe", "Probe", "stdio", "", command=sys.executable, args=(PROBE, *flags),
                           env=env or {}, cwd=str(cwd), prefix=SYSTEM_PREFIX)  # fmt: skip


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


async def gone_within(pid: int, seconds: float) -> bool:
    for _ in range(int(seconds / 0.1)):
        if not alive(pid):
            return True
        await asyncio.sleep(0.1)
    return not alive(pid)


async def test_the_program_gets_only_the_admins_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in NOVA_SECRETS.items():
        monkeypatch.setenv(name, value)  # as `nova serve` or a worker would have them
    config = probe(tmp_path, "--flag with spaces", "$HOME;id", env={"PROBE_TOKEN": "admin-given-token"})
    report = json.loads(await call_tool(config, POLICY, "environment", {}, 10))
    home = str(tmp_path / "probe-home")
    assert report["env"] == {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
                             "PROBE_TOKEN": "admin-given-token"}  # fmt: skip
    assert report["cwd"] == home and report["argv"] == ["--flag with spaces", "$HOME;id"]  # no shell
    assert (await asyncio.to_thread(Path(home).stat)).st_mode & 0o777 == 0o700
    assert await gone_within(report["pid"], 10)
    assert config.secrets() == ("admin-given-token",)  # redacted from steps and traces


async def test_a_hung_server_times_out_and_is_killed(tmp_path: Path) -> None:
    config = probe(tmp_path, "--hang")
    started = time.monotonic()
    with pytest.raises(ToolFailure, match=r"^Probe did not answer within 1 s\.$"):
        await call_tool(config, POLICY, "environment", {}, 1)
    assert time.monotonic() - started < 10
    pid = int((tmp_path / "probe-home" / "server.pid").read_text())
    assert await gone_within(pid, 10)  # it ignores SIGTERM: the SIGKILL escalation ended it


async def test_a_stopped_call_kills_the_server(tmp_path: Path) -> None:
    """Stop (or the run's deadline) cancels the call: the program goes with it."""
    config = probe(tmp_path, "--hang")
    call = asyncio.create_task(call_tool(config, POLICY, "environment", {}, 30))
    pid_file = tmp_path / "probe-home" / "server.pid"
    for _ in range(300):  # 15 s for the program to start
        if pid_file.exists():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the call is under way
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await gone_within(int(pid_file.read_text()), 10)


async def test_a_crashing_server_says_why_without_its_secrets(tmp_path: Path) -> None:
    config = probe(tmp_path, "--crash", env={"PROBE_TOKEN": "crash-secret-token"})
    tools, error = await service.test_connection(config, [], 5)
    assert tools is None and error is not None
    assert "Its stderr: probe: cannot start, PROBE_TOKEN=•••" in error and "crash-secret-token" not in error
    with pytest.raises(ToolFailure, match="cannot start"):
        await call_tool(config, POLICY, "environment", {}, 5)
    missing = McpServerConfig("gone", "Gone", "stdio", "", command="/nonexistent/server", cwd=str(tmp_path / "g"))
    with pytest.raises(Exception, match="Gone"):
        await list_tools(missing, POLICY, 5)
    assert os.environ.get("NOVA_SECRET_KEY") != NOVA_SECRETS["NOVA_SECRET_KEY"]  # monkeypatch undone
