"""The JSON API in-process, on both databases: a message posted, answered and read back."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.tokens import service as tokens
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova


@pytest.mark.both_databases
async def test_a_posted_message_is_answered_and_kept(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "smoke", "write")).secret
    llm.queue(ScriptedReply(text="Paris, of course."), ScriptedReply(text="Lyon is second."))
    auth = {"authorization": f"Bearer {secret}"}
    async with nova.client() as client:
        thread = (await client.post("/api/v1/threads", json={"title": "Cities"}, headers=auth)).json()
        replies = []
        for question in ("The capital of France?", "And the second city?"):
            posted = await client.post(f"/api/v1/threads/{thread['id']}/messages", json={"content": question},
                                       headers=auth)  # fmt: skip
            assert posted.status_code == 201, posted.text
            run = await wait_terminal(client, posted.json()["run_id"], auth)
            assert (run["status"], run["attempts"]) == ("completed", 1), run
            replies.append(run["message"]["content"])
    assert replies == ["Paris, of course.", "Lyon is second."]
    # The second request carried the whole conversation, read back from this database.
    sent = [(m["role"], m["content"]) for m in llm.requests[-1]["messages"][1:]]
    assert sent == [("user", "The capital of France?"), ("assistant", "Paris, of course."),
                    ("user", "And the second city?")]  # fmt: skip


async def wait_terminal(client: httpx.AsyncClient, run_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(600):
        run = (await client.get(f"/api/v1/runs/{run_id}", headers=headers)).json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return dict(run)
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} still {run['status']}")


async def test_a_message_may_name_the_model_for_its_reply(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "t", "write")).secret
    llm.queue(ScriptedReply(text="Large."))
    auth = {"authorization": f"Bearer {secret}"}
    async with nova.client() as client:
        thread = (await client.post("/api/v1/threads", json={"title": "Models"}, headers=auth)).json()
        url = f"/api/v1/threads/{thread['id']}/messages"
        wrong = await client.post(url, json={"content": "Hi", "model": 7}, headers=auth)
        posted = await client.post(url, json={"content": "Hi", "model": "scripted-large"}, headers=auth)
        run = await wait_terminal(client, posted.json()["run_id"], auth)
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith("application/problem+json")
    assert run["status"] == "completed" and llm.requests[-1]["model"] == "scripted-large"
