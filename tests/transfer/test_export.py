"""Export: every branch in the JSON document (ids, parents, tool steps, models), the branch shown
as Markdown, downloads named from the title, and only for the thread's owner."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from app.db import utcnow
from app.models import Agent, FinishReason, Message, MessageRole, Run, RunStatus, Thread
from tests.api.support import bearer
from tests.fixtures.factories import make_agent, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova

STEP = {"kind": "tool", "call_id": "c1", "tool": "web_search", "summary": "Search the web: green tea",
        "args": '{"query": "green tea"}', "preview": "Green tea is made from unoxidised leaves.",
        "status": "ok", "duration_ms": 12, "children": []}  # fmt: skip


async def branched_thread(nova: Nova, owner_id: uuid.UUID, agent: Agent, title: str = "Tea / notes: 1") -> Thread:
    """Q1 → A1 (a tool step) → Q2 → A2 | A2 regenerated (shown); Q1 → A1 → Q2 edited → A3."""
    thread = await make_thread(nova, owner_id, title)
    start = utcnow() - timedelta(hours=1)
    async with nova.ctx.db.transaction() as session:
        run = Run(owner_id=owner_id, thread_id=thread.id, agent_id=agent.id, status=RunStatus.COMPLETED,
                  model="scripted-large", trace=[STEP, {"kind": "model", "model": "scripted-large"}])  # fmt: skip
        session.add(run)
        await session.flush()
        made: dict[str, Message] = {}
        for n, (key, parent, role, text) in enumerate([
            ("q1", None, "user", "Which tea is mildest?"), ("a1", "q1", "assistant", "White tea."),
            ("q2", "a1", "user", "And the strongest?"), ("a2", "q2", "assistant", "Assam."),
            ("a2b", "q2", "assistant", "Pu-erh, regenerated."), ("q2e", "a1", "user", "Edited: and green tea?"),
            ("a3", "q2e", "assistant", "Green tea is in between."),
        ]):  # fmt: skip
            message = Message(id=uuid.uuid4(), thread_id=thread.id, role=MessageRole(role), content=text,
                              parent_id=made[parent].id if parent else None, created_at=start + timedelta(minutes=n),
                              agent_id=agent.id if role == "assistant" else None,
                              run_id=run.id if key == "a1" else None,
                              finish_reason=FinishReason.STOP if role == "assistant" else None)  # fmt: skip
            session.add(message)
            await session.flush()
            made[key] = message
        stored = await session.get(Thread, thread.id)
        assert stored is not None
        stored.current_message_id = made["a2b"].id
    return thread


@pytest.mark.both_databases
async def test_the_json_export_holds_every_branch_and_the_markdown_the_shown_one(nova: Nova, llm: ScriptedLLM) -> None:
    owner = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, owner.id, await make_provider(nova, owner.id, llm.base_url), name="Tea expert")
    thread = await branched_thread(nova, owner.id, agent)
    async with await nova.login("ada@example.com") as client:
        page = await client.get(f"/threads/{thread.id}")
        assert f'/threads/{thread.id}/export.json" class="button' in page.text
        exported = await client.get(f"/threads/{thread.id}/export.json")
        markdown = await client.get(f"/threads/{thread.id}/export.md")

    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    disposition = exported.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Tea-notes-1.json"'), disposition
    assert "filename*=UTF-8''Tea%20notes%201.json" in disposition  # the path separator and colon removed
    doc = json.loads(exported.text)
    assert (doc["format"], doc["version"], doc["thread"]["title"]) == ("nova.thread", 1, "Tea / notes: 1")
    by_text = {m["content"]: m for m in doc["messages"]}
    assert len(by_text) == 7
    assert (
        by_text["Assam."]["parent_id"]
        == by_text["Pu-erh, regenerated."]["parent_id"]
        == by_text["And the strongest?"]["id"]
    )
    assert by_text["Edited: and green tea?"]["parent_id"] == by_text["White tea."]["id"]
    assert by_text["Which tea is mildest?"]["parent_id"] is None
    assert doc["thread"]["current_message_id"] == by_text["Pu-erh, regenerated."]["id"]
    white = by_text["White tea."]
    assert (white["agent"], white["model"], white["finish_reason"]) == ("Tea expert", "scripted-large", "stop")
    assert white["tool_steps"] == [{"name": "web_search", "summary": "Search the web: green tea",
                                    "input": '{"query": "green tea"}', "output": STEP["preview"], "status": "ok",
                                    "duration_ms": 12, "steps": []}]  # fmt: skip
    assert by_text["Assam."]["model"] == "scripted-small"  # no run: the agent's own model

    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.headers["content-disposition"].startswith('attachment; filename="Tea-notes-1.md"')
    text = markdown.text
    assert text.startswith("# Tea / notes: 1\n")
    shown = ["Which tea is mildest?", "White tea.", "And the strongest?", "Pu-erh, regenerated."]
    assert [text.index(t) for t in shown] == sorted(text.index(t) for t in shown)
    assert "Assam." not in text and "Edited" not in text
    assert "> **Tool** `web_search`: Search the web: green tea — ok" in text
    assert "**Tea expert** (scripted-large) ·" in text and "**You** ·" in text


@pytest.mark.both_databases
async def test_only_the_owner_exports_in_the_browser_and_the_api(nova: Nova, llm: ScriptedLLM) -> None:
    owner = await nova.create_user("ada@example.com")
    stranger = await nova.create_user("eve@example.com")
    agent = await make_agent(nova, owner.id, await make_provider(nova, owner.id, llm.base_url))
    thread = await branched_thread(nova, owner.id, agent)
    async with await nova.login("eve@example.com") as client:
        for path in ("export.md", "export.json"):
            assert (await client.get(f"/threads/{thread.id}/{path}")).status_code == 404
        api = f"/api/v1/threads/{thread.id}/export"
        assert (await client.get(api, headers=await bearer(nova, stranger.id, "read"))).status_code == 404
    async with nova.client() as client:
        headers = await bearer(nova, owner.id, "read")
        as_json = await client.get(f"/api/v1/threads/{thread.id}/export", headers=headers)
        as_markdown = await client.get(f"/api/v1/threads/{thread.id}/export?format=markdown", headers=headers)
        wrong = await client.get(f"/api/v1/threads/{thread.id}/export?format=pdf", headers=headers)
    assert as_json.status_code == 200 and len(as_json.json()["messages"]) == 7
    assert as_json.headers["content-disposition"].startswith("attachment;")
    assert as_markdown.status_code == 200 and as_markdown.text.startswith("# Tea / notes: 1")
    assert wrong.status_code == 422 and "format" in wrong.json()["errors"]
