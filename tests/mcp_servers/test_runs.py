"""MCP tools in real runs: the scripted model calls them, "ask first" pauses, failures are results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.agents.tools.mcp import McpServerConfig
from app.mcp_servers import service
from app.mcp_servers.service import ServerInput
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.fixtures.mcp_server import BEARER, MCP_HOST, McpTestServer
from tests.tools.conftest import give_tools
from tests.tools.test_pauses import answer, wait_status

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def live_settings() -> dict[str, str]:
    """The module's Nova may reach the MCP test server; an MCP call gives up after 1 s."""
    return {"NOVA_EGRESS_ALLOWLIST": MCP_HOST, "NOVA_MCP_TIMEOUT_SECONDS": "1"}


@pytest.fixture
async def live(embedded_server: LiveNova, llm: ScriptedLLM) -> AsyncIterator[LiveNova]:
    """Embedded Nova only: the MCP client is the same in a worker process."""
    view = await embedded_server.as_new_user(llm.base_url)
    yield view
    await view.settle()


async def add_tested_server(live: LiveNova, url: str) -> None:
    """A server of the user's, its tools listed as "Test connection" would list them."""
    async with live.db.transaction() as session:
        data = ServerInput("Home", "http", url, "bearer", BEARER, "", "", "")
        server = await service.create_server(session, live.box, live.user_id, data)
        config: McpServerConfig = service.config(live.box, server)
    tools, error = await service.test_connection(config, [MCP_HOST], 5)
    assert error is None
    async with live.db.transaction() as session:
        row = await service.get_server(session, live.user_id, server.id)
        service.remember_tools(row, tools, None)


def all_tool_results(body: dict[str, Any]) -> str:
    return " | ".join(str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "tool")


async def test_an_mcp_tool_asks_first_then_answers(live: LiveNova, llm: ScriptedLLM, mcp_server: McpTestServer) -> None:
    await add_tested_server(live, mcp_server.http_url)
    await give_tools(live, {"mcp:home:add": True})
    llm.queue(ScriptedReply(tool_calls=[("mcp__home__add", {"a": 2, "b": 40})]),
              ScriptedReply(text_from=lambda body: "Sum: " + last_tool_result(body)))  # fmt: skip
    posted = await live.post(await live.new_thread(), "Add 2 and 40")
    waiting = await wait_status(live, posted["run_id"], "waiting")
    assert waiting["waiting_for"]["kind"] == "approval"
    assert waiting["waiting_for"]["summary"] == "Using add (home)"
    assert BEARER not in str(waiting)
    assert await answer(live, posted["run_id"], {"approve": True}) == 202
    done = await live.wait_terminal(posted["run_id"])
    assert done["status"] == "completed" and done["message"]["content"] == "Sum: 42"
    tools = llm.requests[0]["tools"]
    add = next(t["function"] for t in tools if t["function"]["name"] == "mcp__home__add")
    assert add["description"] == "Add two whole numbers." and add["parameters"]["required"] == ["a", "b"]


async def test_failing_hung_and_misused_mcp_tools_are_results(
    live: LiveNova, llm: ScriptedLLM, mcp_server: McpTestServer
) -> None:
    await add_tested_server(live, mcp_server.http_url)
    await give_tools(live, {"mcp:home:slow": False, "mcp:home:broken": False, "mcp:home:add": False})
    llm.queue(
        ScriptedReply(tool_calls=[("mcp__home__slow", {"seconds": 30}), ("mcp__home__broken", {}),
                                  ("mcp__home__add", {"a": "two", "b": 1})]),
        ScriptedReply(text_from=all_tool_results),
    )  # fmt: skip
    posted = await live.post(await live.new_thread(), "Try them all")
    done = await live.wait_terminal(posted["run_id"])
    assert done["status"] == "completed"
    content = done["message"]["content"]
    assert "Home did not answer within 1 s." in content
    assert "the broken tool broke" in content
    assert "Invalid arguments at a: 'two' is not of type 'integer'" in content
