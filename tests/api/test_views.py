"""The JSON API in-process, on both databases: a message posted, answered and read back."""

from __future__ import annotations

import asyncio
import uuid
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


async def user_with_token(nova: Nova, llm: ScriptedLLM, email: str) -> dict[str, str]:
    user = await nova.create_user(email)
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "t", "write")).secret
    return {"authorization": f"Bearer {secret}"}


async def test_a_thread_is_read_back_page_by_page_renamed_and_deleted(nova: Nova, llm: ScriptedLLM) -> None:
    auth = await user_with_token(nova, llm, "ada@example.com")
    stranger = await user_with_token(nova, llm, "eve@example.com")
    llm.queue(ScriptedReply(text="First answer."), ScriptedReply(text="Second answer."))
    async with nova.client() as client:
        thread = (await client.post("/api/v1/threads", json={"title": "Notes"}, headers=auth)).json()
        url = f"/api/v1/threads/{thread['id']}"
        run_ids = []
        for question in ("One?", "Two?"):
            posted = (await client.post(f"{url}/messages", json={"content": question}, headers=auth)).json()
            run_ids.append((await wait_terminal(client, posted["run_id"], auth))["id"])
        read = (await client.get(url, headers=auth)).json()
        newest = (await client.get(f"{url}/messages?limit=3", headers=auth)).json()
        oldest = (await client.get(f"{url}/messages?limit=3&before={newest['next_cursor']}", headers=auth)).json()
        bad = [
            await client.get(f"{url}/messages?{query}", headers=auth)
            for query in ("limit=0", "limit=%C2%B2", "before=nope", f"before={uuid.uuid4()}")
        ]
        renamed = await client.patch(url, json={"title": "  Kept notes "}, headers=auth)
        hidden = [
            (await client.request(method, path, json=body, headers=stranger)).status_code
            for method, path, body in [("GET", url, None), ("GET", f"{url}/messages", None),
                                       ("PATCH", url, {"title": "Mine"}), ("DELETE", url, None)]
        ]  # fmt: skip
        deleted = await client.delete(url, headers=auth)
        gone = await client.get(url, headers=auth)
    assert read["title"] == "Notes" and read["agent_id"]
    assert [(m["role"], m["content"]) for m in oldest["data"] + newest["data"]] == [
        ("user", "One?"), ("assistant", "First answer."), ("user", "Two?"), ("assistant", "Second answer.")
    ]  # fmt: skip
    assert newest["has_more"] and not oldest["has_more"] and oldest["next_cursor"] is None
    assert [m["run_id"] for m in oldest["data"] + newest["data"] if m["role"] == "assistant"] == run_ids
    assert all(m["created_at"] and m["agent_id"] for m in newest["data"])
    assert all(r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json") for r in bad)
    assert [next(iter(r.json()["errors"])) for r in bad] == ["limit", "limit", "before", "before"]
    assert renamed.status_code == 200 and renamed.json()["title"] == "Kept notes"
    assert hidden == [404, 404, 404, 404]
    assert deleted.status_code == 204 and gone.status_code == 404


@pytest.mark.both_databases
async def test_a_retried_post_with_an_idempotency_key_is_done_once(nova: Nova, llm: ScriptedLLM) -> None:
    auth = await user_with_token(nova, llm, "ada@example.com")
    other = await user_with_token(nova, llm, "bob@example.com")
    llm.queue(ScriptedReply(text="Once."))
    key = {"idempotency-key": "create-1"}
    async with nova.client() as client:
        created = [await client.post("/api/v1/threads", json={"title": "A"}, headers=auth | key) for _ in range(2)]
        reused = await client.post("/api/v1/threads", json={"title": "B"}, headers=auth | key)
        theirs = await client.post("/api/v1/threads", json={"title": "A"}, headers=other | key)
        url = f"/api/v1/threads/{created[0].json()['id']}/messages"
        send = {"idempotency-key": "send-1"}
        posted = [await client.post(url, json={"content": "Hi"}, headers=auth | send) for _ in range(2)]
        await wait_terminal(client, posted[0].json()["run_id"], auth)
        after_the_end = await client.post(url, json={"content": "Hi"}, headers=auth | send)
        mine = (await client.get("/api/v1/threads", headers=auth)).json()["data"]
        messages = (await client.get(url, headers=auth)).json()["data"]
        too_long = await client.post("/api/v1/threads", json={}, headers=auth | {"idempotency-key": "k" * 256})
    assert [r.status_code for r in created] == [201, 201] and created[0].json() == created[1].json()
    assert reused.status_code == 422 and "different request" in reused.text
    assert theirs.status_code == 201 and theirs.json()["id"] != created[0].json()["id"]  # keys are per user
    assert [r.status_code for r in posted] == [201, 201] and posted[0].json() == posted[1].json()
    assert after_the_end.json() == posted[0].json()
    assert len(mine) == 1 and [m["content"] for m in messages] == ["Hi", "Once."]
    assert too_long.status_code == 422
