"""Nova's own /mcp, driven by the fastmcp client over Streamable HTTP against `nova serve`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from sqlalchemy import select

from app.agent_configs import service as agent_configs
from app.models import Agent, Run, RunStatus
from app.tokens import service as tokens
from tests.conftest import start_live
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.tools.conftest import give_tools

pytestmark = pytest.mark.live

REPLY = "Nova answers over MCP, streamed in many small pieces to the client that asked for it."


@pytest.fixture
async def embedded(embedded_server: LiveNova, llm: ScriptedLLM) -> AsyncIterator[LiveNova]:
    """The module's embedded `nova serve`, as a user of this test's own."""
    view = await embedded_server.as_new_user(llm.base_url)
    yield view
    await view.settle()


def mcp(live: LiveNova, token: str | None = None, mode: str = "auto") -> Client[Any]:
    """`mode`: "auto" speaks the newest protocol; "legacy" the 2025 handshake, with a session."""
    return Client(f"{live.url}/mcp", auth=token or live.token, timeout=30, mode=mode)


async def token_with_scope(live: LiveNova, scope: str) -> str:
    async with live.db.transaction() as session:
        return (await tokens.create_token(session, live.user_id, f"mcp-{scope}", scope)).secret


async def thread_messages(live: LiveNova, thread_id: str) -> list[tuple[str, str]]:
    async with live.api() as api:
        response = await api.get(f"/api/v1/threads/{thread_id}/messages")
    assert response.status_code == 200, response.text
    return [(m["role"], m["content"]) for m in response.json()["data"]]


async def test_tools_are_the_callers_agents_and_nobody_elses(embedded: LiveNova, llm: ScriptedLLM) -> None:
    async with embedded.db.transaction() as session:
        helper = await session.scalar(select(Agent).where(Agent.owner_id == embedded.user_id))
        assert helper is not None
        data = agent_configs.AgentInput("Research Bot", "Find sources.\nCite them.", str(helper.provider_id),
                                        "", "0.3", "25", False, tool_description="Digs up sources.")  # fmt: skip
        await agent_configs.create_agent(session, embedded.user_id, data)
    stranger = await embedded.as_new_user(llm.base_url)
    async with mcp(embedded) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    async with mcp(stranger) as client:
        theirs = {tool.name for tool in await client.list_tools()}
    assert set(tools) == {"ask_helper", "ask_research_bot", "list_threads", "read_thread"}
    assert theirs == {"ask_helper", "list_threads", "read_thread"}  # their own Helper, not the Research Bot
    assert tools["ask_research_bot"].description is not None
    assert tools["ask_research_bot"].description.startswith("Ask the agent Research Bot: Digs up sources.")
    assert tools["ask_helper"].description is not None
    assert tools["ask_helper"].description.startswith("Ask the agent Helper: Be brief.")
    schema = tools["ask_helper"].input_schema
    assert schema["required"] == ["message"] and set(schema["properties"]) == {"message", "thread_id"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_asking_an_agent_streams_and_the_run_is_a_thread(live: LiveNova, llm: ScriptedLLM, mode: str) -> None:
    """Embedded and scaled, both protocol eras: the reply streams as progress and lands in a
    thread, which a second question continues."""
    llm.queue(ScriptedReply(text=REPLY, tokens_per_second=60), ScriptedReply(text="Second answer."))
    pieces: list[str] = []
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)
        pieces.append(message or "")

    async with mcp(live, mode=mode) as client:
        first = await client.call_tool("ask_helper", {"message": "How do you answer?"}, progress_handler=on_progress)
        assert first.structured_content is not None
        thread_id = first.structured_content["thread_id"]
        second = await client.call_tool("ask_helper", {"message": "Again?", "thread_id": thread_id})
    link = f"{live.url}/threads/{thread_id}"
    assert first.content[0].text == f"{REPLY}\n\nThe thread in Nova: {link}"  # type: ignore[union-attr]
    assert first.structured_content == {"status": "completed", "reply": REPLY, "run_id": first.structured_content["run_id"],
                                        "thread_id": thread_id, "thread_url": link}  # fmt: skip
    assert "".join(pieces) == REPLY
    assert 1 < len(pieces) < len(REPLY.split())  # coalesced: not one notification per token
    assert progress == sorted(progress) and progress[-1] == len(REPLY)
    assert second.structured_content is not None and second.structured_content["thread_id"] == thread_id
    assert await thread_messages(live, thread_id) == [
        ("user", "How do you answer?"), ("assistant", REPLY), ("user", "Again?"), ("assistant", "Second answer."),
    ]  # fmt: skip
    run = await live.run(first.structured_content["run_id"])
    assert run["status"] == "completed" and run["thread_id"] == thread_id


async def test_a_read_token_reads_but_cannot_ask(embedded: LiveNova, llm: ScriptedLLM) -> None:
    read_only = await token_with_scope(embedded, "read")
    async with mcp(embedded, read_only) as client:
        assert "ask_helper" in {tool.name for tool in await client.list_tools()}
        with pytest.raises(ToolError, match="needs a token with the write scope"):
            await client.call_tool("ask_helper", {"message": "Start a run?"})
        listed = await client.call_tool("list_threads", {})
    assert listed.structured_content == {"threads": [], "next_cursor": None}
    assert llm.requests == []  # no run started


async def test_a_bad_or_revoked_token_gets_401(embedded: LiveNova) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip
    headers = {"accept": "application/json, text/event-stream"}
    doomed = await token_with_scope(embedded, "write")
    async with mcp(embedded, doomed) as client:
        assert await client.list_tools()
    async with embedded.api() as api:
        token_id = next(t["id"] for t in (await api.get("/api/v1/tokens")).json()["data"] if t["name"] == "mcp-write")
        assert (await api.delete(f"/api/v1/tokens/{token_id}")).status_code == 204
    async with httpx.AsyncClient(base_url=embedded.url, headers=headers) as raw:
        for secret in ("nova_not_a_token", doomed, None):
            auth = {"authorization": f"Bearer {secret}"} if secret else {}
            refused = await raw.post("/mcp", json=hello, headers=auth)
            assert refused.status_code == 401, refused.text
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "API token" in refused.json()["detail"]
        accepted = await raw.post("/mcp", json=hello, headers={"authorization": f"Bearer {embedded.token}"})
    assert accepted.status_code == 200
    assert "ratelimit" in accepted.headers  # the API's limits count /mcp requests too
    with pytest.raises(MCPError):  # the client itself is turned away (it does not say with which status)
        async with mcp(embedded, doomed) as client:
            await client.list_tools()


async def test_threads_are_listed_and_read_for_their_owner_only(embedded: LiveNova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="First."), ScriptedReply(text="Second."))
    async with mcp(embedded) as client:
        first = await client.call_tool("ask_helper", {"message": "One"})
        second = await client.call_tool("ask_helper", {"message": "Two"})
        page = await client.call_tool("list_threads", {"limit": 1})
        assert page.structured_content is not None
        rest = await client.call_tool("list_threads", {"limit": 1, "cursor": page.structured_content["next_cursor"]})
        assert first.structured_content is not None and second.structured_content is not None
        mine = first.structured_content["thread_id"]
        read = await client.call_tool("read_thread", {"thread_id": mine})
    assert rest.structured_content is not None
    listed = [t["id"] for t in page.structured_content["threads"] + rest.structured_content["threads"]]
    assert listed == [second.structured_content["thread_id"], mine]  # newest first
    assert rest.structured_content["next_cursor"] is None
    assert read.structured_content is not None
    assert read.structured_content["thread"]["url"] == f"{embedded.url}/threads/{mine}"
    assert [(m["role"], m["content"]) for m in read.structured_content["messages"]] == [
        ("user", "One"), ("assistant", "First."),
    ]  # fmt: skip
    stranger = await embedded.as_new_user(llm.base_url)
    async with mcp(stranger) as client:
        with pytest.raises(ToolError, match=f"Thread {mine} not found"):
            await client.call_tool("read_thread", {"thread_id": mine})
        with pytest.raises(ToolError, match=f"Thread {mine} not found"):
            await client.call_tool("ask_helper", {"message": "Into yours", "thread_id": mine})
        theirs = await client.call_tool("list_threads", {})
    assert theirs.structured_content == {"threads": [], "next_cursor": None}
    assert await thread_messages(embedded, mine) == [("user", "One"), ("assistant", "First.")]


async def test_a_pause_answers_that_the_agent_waits_for_the_user(embedded: LiveNova, llm: ScriptedLLM) -> None:
    await give_tools(embedded, {"ask_user": False, "datetime_now": True})
    llm.queue(
        ScriptedReply(tool_calls=[("ask_user", {"question": "Which colour?", "choices": ["Blue", "Red"]})]),
        ScriptedReply(text_from=lambda body: "You chose: " + last_tool_result(body)),
        ScriptedReply(tool_calls=[("datetime_now", {})]),
    )  # fmt: skip
    async with mcp(embedded) as client:
        asked = await client.call_tool("ask_helper", {"message": "Paint my room"})
        assert asked.structured_content is not None
        thread_id, run_id = asked.structured_content["thread_id"], asked.structured_content["run_id"]
        link = f"{embedded.url}/threads/{thread_id}"
        text = asked.content[0].text  # type: ignore[union-attr]
        assert not asked.is_error and asked.structured_content["status"] == "waiting"
        assert text.startswith(
            "The agent is waiting for the user in Nova: it asks “Which colour?” (choices: Blue, Red)."
        )
        assert link in text
        assert (await embedded.run(run_id))["status"] == "waiting"
        async with embedded.api() as api:
            assert (await api.post(f"/api/v1/runs/{run_id}/answer", json={"answer": "Blue"})).status_code == 202
        assert (await embedded.wait_terminal(run_id))["message"]["content"] == "You chose: The user answered: Blue"
        approval = await client.call_tool("ask_helper", {"message": "Time?", "thread_id": thread_id})
    assert approval.structured_content is not None and approval.structured_content["status"] == "waiting"
    assert approval.content[0].text.startswith(  # type: ignore[union-attr]
        "The agent is waiting for the user in Nova to approve a step: Checking the date and time."
    )


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_cancelling_the_call_stops_the_run_and_stop_in_nova_ends_the_call(
    embedded: LiveNova, llm: ScriptedLLM, mode: str
) -> None:
    """Either era: a newer client closes the call's stream, a 2025 one sends a cancel notification."""
    slow = " ".join(["word"] * 200)
    llm.queue(ScriptedReply(text=slow, tokens_per_second=20), ScriptedReply(text=slow, tokens_per_second=20))
    started = asyncio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        started.set()

    async with mcp(embedded, mode=mode) as client:
        call = asyncio.create_task(client.call_tool("ask_helper", {"message": "Talk"}, progress_handler=on_progress))
        await asyncio.wait_for(started.wait(), 20)
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
        cancelled = await _latest_run(embedded)
        assert (await embedded.wait_terminal(str(cancelled)))["status"] == "cancelled"

        started.clear()
        call = asyncio.create_task(
            client.call_tool("ask_helper", {"message": "Talk more"}, progress_handler=on_progress)
        )
        await asyncio.wait_for(started.wait(), 20)
        stopped = await _latest_run(embedded)
        assert stopped != cancelled
        async with embedded.api() as api:  # what Stop on the thread page does
            assert (await api.post(f"/api/v1/runs/{stopped}/cancel")).status_code == 202
        with pytest.raises(ToolError, match=r"The run was stopped before it finished\. What it had said: word"):
            await asyncio.wait_for(call, 20)


async def _latest_run(live: LiveNova) -> uuid.UUID:
    async with live.db.transaction() as session:
        query = select(Run.id).where(Run.owner_id == live.user_id).order_by(Run.created_at.desc()).limit(1)
        found = await session.scalar(query)
    assert found is not None
    return found


async def test_a_token_revoked_mid_call_ends_the_call_not_the_run(embedded: LiveNova, llm: ScriptedLLM) -> None:
    reply = " ".join(["word"] * 60)
    llm.queue(ScriptedReply(text=reply, tokens_per_second=10))
    doomed = await token_with_scope(embedded, "write")
    started = asyncio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        started.set()

    async with mcp(embedded, doomed) as client:
        call = asyncio.create_task(client.call_tool("ask_helper", {"message": "Go on"}, progress_handler=on_progress))
        await asyncio.wait_for(started.wait(), 20)
        async with embedded.api() as api:
            tokens_listed = (await api.get("/api/v1/tokens")).json()["data"]
            token_id = next(t["id"] for t in tokens_listed if t["name"] == "mcp-write")
            assert (await api.delete(f"/api/v1/tokens/{token_id}")).status_code == 204
        with pytest.raises(ToolError, match="revoked or its user suspended; the run goes on in Nova"):
            await asyncio.wait_for(call, 10)  # NOVA_SSE_REAUTH_SECONDS (2) after the revocation
    run = await embedded.wait_terminal(str(await _latest_run(embedded)))
    assert run["status"] == "completed" and run["message"]["content"] == reply


async def test_a_web_process_stopping_mid_call_leaves_the_run_to_its_worker(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    """A deploy restarts `nova serve`: the calls it was serving end, their runs do not. (A
    2025-protocol call runs on its session, which Nova's shutdown cancels; a newer one is a
    request that uvicorn lets finish.)"""
    reply = " ".join(["word"] * 80)
    async with start_live(request, "scaled", tmp_path) as live:
        await live.seed(llm.base_url)
        llm.queue(ScriptedReply(text=reply, tokens_per_second=20))
        started = asyncio.Event()

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            started.set()

        with contextlib.suppress(Exception):  # the client finds its server gone, as it should
            async with mcp(live, mode="legacy") as client:
                ask = client.call_tool("ask_helper", {"message": "Go"}, progress_handler=on_progress)
                call = asyncio.create_task(ask)
                await asyncio.wait_for(started.wait(), 20)
                live.web.process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(call, 20)
        assert started.is_set()
        # It stopped without waiting for the run (uvicorn raises the signal again once it has shut down).
        assert live.web.process.wait(timeout=20) == -signal.SIGTERM
        run_id = await _latest_run(live)
        for _ in range(800):  # up to 40 s: the worker shares two cores with the suite
            async with live.db.transaction() as session:
                run = await session.get(Run, run_id)
                assert run is not None
                if run.status.is_terminal:
                    break
            await asyncio.sleep(0.05)
    assert run.status is RunStatus.COMPLETED
