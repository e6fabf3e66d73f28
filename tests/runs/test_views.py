"""The live reply's streams in-process: what a retried provider failure looks like in each.

A finished run's stream replays its whole log and ends, so each GET returns the lot.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Run, RunStatus
from app.tokens import service as tokens
from tests.fixtures.factories import make_agent, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, nova_settings, open_nova, submit
from tests.fixtures.runs import finished_run

RETRYING = '<span class="run-status-text">Retrying (2/4)…</span>'
CLEARED = '<span class="run-status-text"></span>'


@pytest.fixture
async def nova(database_url: str, tmp_path: Path) -> AsyncIterator[Nova]:
    """Nova with a backoff short enough for a test (the default waits a second)."""
    settings = nova_settings(database_url, tmp_path, NOVA_PROVIDER_RETRY_BASE_SECONDS="0.01")
    async with open_nova(settings) as harness:
        yield harness


def frames(body: str) -> list[tuple[str, str]]:
    """(event name, data) of each server-sent event in a stream's body."""
    found = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = [line.split(":", 1) for line in block.split("\n") if ":" in line and not line.startswith(":")]
        event = next((value.strip() for name, value in fields if name == "event"), "message")
        data = "\n".join(value.removeprefix(" ") for name, value in fields if name == "data")
        if data:
            found.append((event, data))
    return found


async def test_a_retry_is_a_status_line_in_the_browser_and_an_event_in_the_api(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "t", "read")).secret
    llm.queue(ScriptedReply(status=500), ScriptedReply(text="Recovered answer."))
    async with await nova.login("ada@example.com") as client:
        await submit(client, f"/threads/{thread.id}/messages", {"content": "Hello?"})
        async with nova.ctx.db.transaction() as session:
            run_id = await session.scalar(select(Run.id).where(Run.thread_id == thread.id))
        assert run_id is not None
        run = await finished_run(nova, run_id)
        html = await client.get(f"/threads/{thread.id}/runs/{run_id}/stream", params={"after": "0"})
        api = await client.get(f"/api/v1/runs/{run_id}/events", headers={"authorization": f"Bearer {secret}"})
    assert run.status is RunStatus.COMPLETED
    shown = frames(html.text)
    names = [name for name, _ in shown]
    retry_at = shown.index(("status", RETRYING))
    first_text = names.index("delta")
    assert retry_at < first_text  # said while the bubble is still empty
    assert shown[first_text + 1] == ("status", CLEARED)  # and gone once text comes again
    assert names[-1] == "done" and "Recovered answer." in shown[-1][1]
    events = [json.loads(data) for _, data in frames(api.text)]
    retrying = [e for e in events if e["type"] == "run.retrying"]
    assert [(e["attempt"], e["of"], e["reason"]) for e in retrying] == [(2, 4, "The provider failed with HTTP 500.")]
    assert [e["type"] for e in events][-1] == "run.completed"
    notes = [step["summary"] for step in run.trace or [] if step["kind"] == "note"]
    assert notes == ["Tried again (2/4): The provider failed with HTTP 500."]


async def test_a_page_opened_during_the_backoff_shows_the_retry(nova: Nova, llm: ScriptedLLM) -> None:
    from app.events import EventType, RunEvent

    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    async with nova.ctx.db.transaction() as session:  # a run no worker holds, mid-backoff
        run = Run(owner_id=user.id, thread_id=thread.id, agent_id=agent.id, status=RunStatus.RUNNING, attempts=1)
        session.add(run)
    for number, kind, data in [(1, EventType.RUN_STARTED, {}), (2, EventType.RUN_RETRYING,
                               {"attempt": 3, "of": 4, "reason": "The provider failed with HTTP 502."})]:  # fmt: skip
        await nova.ctx.events.append(str(run.id), RunEvent(id=number, type=kind, data=data))
    async with await nova.login("ada@example.com") as client:
        page = await client.get(f"/threads/{thread.id}")
        # The page's stream goes on from there: the text comes, and the line must go.
        ending = {"run_id": str(run.id), "thread_id": str(thread.id), "content": "Hi"}
        for number, kind, data in [(3, EventType.MESSAGE_DELTA, {"text": "Hi"}), (4, EventType.RUN_CANCELLED, ending)]:
            await nova.ctx.events.append(str(run.id), RunEvent(id=number, type=kind, data=data))
        stream = await client.get(f"/threads/{thread.id}/runs/{run.id}/stream", params={"after": "2"})
    assert '<span class="run-status" role="status"' in page.text
    assert "Retrying (3/4)…</span>" in page.text
    assert f"/runs/{run.id}/stream?after=2" in page.text
    assert [name for name, _ in frames(stream.text)] == ["delta", "status", "done"]
    assert frames(stream.text)[1] == ("status", CLEARED)


async def test_the_openai_stream_carries_only_the_text_across_a_retry(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "t", "write")).secret
    llm.queue(ScriptedReply(status=503), ScriptedReply(text="Recovered answer."))
    body = {"model": agent.slug, "messages": [{"role": "user", "content": "Hello?"}], "stream": True}
    async with nova.client() as client:
        response = await client.post("/v1/chat/completions", json=body, headers={"authorization": f"Bearer {secret}"})
    chunks = [data for _, data in frames(response.text)]
    assert chunks[-1] == "[DONE]"
    parsed = [json.loads(chunk) for chunk in chunks[:-1]]
    assert all("error" not in chunk for chunk in parsed)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in parsed) == "Recovered answer."
    assert uuid.UUID(response.headers["x-nova-thread-id"])


async def test_markdown_streams_with_frames_that_do_not_grow_with_the_reply(
    nova: Nova, llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finished blocks go once and only the open block is sent again: no frame carries the
    reply so far, so the bytes per token stay flat however long the reply gets."""
    # No coalescing window and a paced model: about an event per token, the most frames a reply makes.
    monkeypatch.setattr(nova.ctx, "settings", nova.ctx.settings.model_copy(update={"stream_coalesce_ms": 0}))
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    paragraph = "Some **bold** words " + " ".join(f"w{i}" for i in range(25)) + "\n\n"
    reply = "# Title\n\n" + paragraph * 40 + "```python\nprint('done')\n```"
    llm.queue(ScriptedReply(text=reply, tokens_per_second=1000))
    async with await nova.login("ada@example.com") as client:
        await submit(client, f"/threads/{thread.id}/messages", {"content": "Write a lot"})
        async with nova.ctx.db.transaction() as session:
            run_id = await session.scalar(select(Run.id).where(Run.thread_id == thread.id))
        assert run_id is not None
        await finished_run(nova, run_id)
        html = await client.get(f"/threads/{thread.id}/runs/{run_id}/stream", params={"after": "0"})
    deltas = [data for name, data in frames(html.text) if name == "delta"]
    assert len(deltas) > 100
    assert max(len(data) for data in deltas) < 1500  # one paragraph's worth, never the reply so far
    # Bounded by the size of a block: re-sending the reply so far would be ~40 times as much.
    assert sum(len(data) for data in deltas) < 25 * len(reply)
    shown = "".join(deltas)
    assert "<h1>Title</h1>" in shown and shown.count("<strong>bold</strong>") >= 40
    assert "**" not in shown and "```" not in shown  # the Markdown is rendered, never raw
