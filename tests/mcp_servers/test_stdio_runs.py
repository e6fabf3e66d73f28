"""Admins' stdio servers in real runs of `nova serve`: a user's agent calls mcp-server-time (asking
first), the program sees none of Nova's settings, a hung one is a tool error and is killed."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.mcp_servers import service, stdio
from app.mcp_servers.stdio import StdioInput
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.mcp_servers.test_stdio_process import PROBE, gone_within
from tests.tools.conftest import give_tools
from tests.tools.test_pauses import answer, wait_status

pytestmark = pytest.mark.live
TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")


@pytest.fixture(scope="module")
def live_settings() -> dict[str, str]:
    """A stdio call gives up after 6 s: time enough to start a Python server on a busy machine."""
    return {"NOVA_MCP_TIMEOUT_SECONDS": "6"}


@pytest.fixture
async def live(embedded_server: LiveNova, llm: ScriptedLLM) -> AsyncIterator[LiveNova]:
    view = await embedded_server.as_new_user(llm.base_url)
    yield view
    await view.settle()


async def add_system_server(live: LiveNova, data: StdioInput, *, test: bool = True) -> Path:
    """An admin's server (as the admin page saves it), its tools listed by "Test connection"."""
    async with live.db.transaction() as session:
        server = await stdio.create_server(session, live.box, live.data_dir, data)
        config = service.config(live.box, server)
    if test:
        tools, error = await service.test_connection(config, [], 20)
        assert error is None, error
        async with live.db.transaction() as session:
            service.remember_tools(await stdio.get_server(session, server.id), tools, None)
    return Path(config.cwd)


async def test_a_users_agent_calls_the_time_server_after_asking(live: LiveNova, llm: ScriptedLLM) -> None:
    await add_system_server(live, StdioInput("Time", TIME_SERVER, "--local-timezone\nEurope/Paris", "", ""))
    await give_tools(live, {"sysmcp:time:get_current_time": True})
    llm.queue(ScriptedReply(tool_calls=[("sysmcp__time__get_current_time", {"timezone": "Asia/Tokyo"})]),
              ScriptedReply(text_from=lambda body: "Tokyo: " + last_tool_result(body)))  # fmt: skip
    posted = await live.post(await live.new_thread(), "What time is it in Tokyo?")
    waiting = await wait_status(live, posted["run_id"], "waiting")
    assert waiting["waiting_for"]["kind"] == "approval"
    assert waiting["waiting_for"]["summary"] == "Using get_current_time (time)"
    assert await answer(live, posted["run_id"], {"approve": True}) == 202
    done = await live.wait_terminal(posted["run_id"])
    assert done["status"] == "completed", done
    reported = json.loads(done["message"]["content"].removeprefix("Tokyo: "))
    assert reported["timezone"] == "Asia/Tokyo" and reported["datetime"].endswith("+09:00")
    offered = [t["function"]["name"] for t in llm.requests[0]["tools"]]
    assert "sysmcp__time__get_current_time" in offered


async def test_the_program_sees_none_of_novas_settings(live: LiveNova, llm: ScriptedLLM) -> None:
    home = await add_system_server(live, StdioInput("Probe", sys.executable, PROBE, "PROBE_TOKEN=probe-token-42", ""))
    await give_tools(live, {"sysmcp:probe:*": False})  # the whole server
    llm.queue(ScriptedReply(tool_calls=[("sysmcp__probe__environment", {})]),
              ScriptedReply(text_from=last_tool_result))  # fmt: skip
    posted = await live.post(await live.new_thread(), "What were you given?")
    done = await live.wait_terminal(posted["run_id"])
    assert done["status"] == "completed", done
    report = json.loads(done["message"]["content"])
    assert set(report["env"]) == {"PATH", "HOME", "LANG", "PROBE_TOKEN"}
    assert report["env"]["HOME"] == report["cwd"] == str(home)
    for value in live.env.values():  # NOVA_SECRET_KEY, NOVA_ENCRYPTION_KEY, ...
        if len(value) > 8:
            assert value not in done["message"]["content"]
    assert await gone_within(report["pid"], 10)


async def test_a_hung_server_is_a_tool_error_and_is_killed(live: LiveNova, llm: ScriptedLLM) -> None:
    home = await add_system_server(live, StdioInput("Hung", sys.executable, f"{PROBE}\n--hang", "", ""))
    await give_tools(live, {"sysmcp:hung:environment": False})
    llm.queue(ScriptedReply(tool_calls=[("sysmcp__hung__environment", {})]),
              ScriptedReply(text_from=lambda body: "Tool said: " + last_tool_result(body)))  # fmt: skip
    started = time.monotonic()
    posted = await live.post(await live.new_thread(), "Try it")
    done = await live.wait_terminal(posted["run_id"], within=40)
    assert done["status"] == "completed", done
    assert done["message"]["content"] == "Tool said: Error: Hung did not answer within 6 s."
    assert time.monotonic() - started < 30
    assert await gone_within(int((home / "server.pid").read_text()), 10)
