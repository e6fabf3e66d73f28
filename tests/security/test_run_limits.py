"""Run starts per user: a sliding window, shared through Redis, the same on every path."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from app.security.run_limits import FallbackRunStartLimiter, MemoryRunStartLimiter, RedisRunStartLimiter
from app.tokens import service as tokens
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import nova_settings, open_nova, submit


async def test_a_window_admits_its_limit_then_says_when_to_come_back() -> None:
    limiter, ada, bob = MemoryRunStartLimiter(3, 60), uuid.uuid4(), uuid.uuid4()
    decisions = [await limiter.try_start(ada) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1].headers()
    assert refused["RateLimit-Policy"] == '"runs";q=3;w=60' and 59 <= int(refused["Retry-After"]) <= 60
    assert (await limiter.try_start(bob)).allowed  # each user has a window of their own


async def test_redis_shares_the_window_between_processes_and_is_atomic(redis_url: str) -> None:
    first, second = RedisRunStartLimiter(redis_url, 5, 60), RedisRunStartLimiter(redis_url, 5, 60)
    user = uuid.uuid4()
    try:
        decisions = await asyncio.gather(*(limiter.try_start(user) for limiter in [first, second] * 10))
    finally:
        await first.close()
        await second.close()
    assert sum(d.allowed for d in decisions) == 5


async def test_with_redis_down_this_process_counts_on_its_own() -> None:
    unreachable = RedisRunStartLimiter("redis://127.0.0.1:1/0", 2, 60)
    limiter = FallbackRunStartLimiter(unreachable, MemoryRunStartLimiter(2, 60))
    user = uuid.uuid4()
    assert [(await limiter.try_start(user)).allowed for _ in range(3)] == [True, True, False]
    await limiter.close()


async def test_the_limit_is_the_same_from_the_browser_the_api_and_v1(
    database_url: str, tmp_path: Path, llm: ScriptedLLM
) -> None:
    settings = nova_settings(database_url, tmp_path, NOVA_RUN_STARTS_PER_WINDOW="2")
    async with open_nova(settings) as nova:
        user = await nova.create_user("ada@example.com")
        agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
        async with nova.ctx.db.transaction() as session:
            auth = {"authorization": f"Bearer {(await tokens.create_token(session, user.id, 't', 'write')).secret}"}
        llm.queue(*[ScriptedReply(text="ok")] * 4)
        async with nova.client() as api:
            first = (await api.post("/api/v1/threads", json={}, headers=auth)).json()["id"]
            started = await api.post(f"/api/v1/threads/{first}/messages", json={"content": "one"}, headers=auth)
        async with await nova.login("ada@example.com") as browser:
            thread = (await submit(browser, "/threads")).headers["location"]
            in_browser = await submit(browser, thread + "/messages", {"content": "two", "agent_id": str(agent.id)})
            other = (await submit(browser, "/threads")).headers["location"]
            refused_page = await submit(browser, other + "/messages", {"content": "three", "agent_id": str(agent.id)})
        async with nova.client() as api:
            second = (await api.post("/api/v1/threads", json={}, headers=auth)).json()["id"]
            refused_api = await api.post(f"/api/v1/threads/{second}/messages", json={"content": "x"}, headers=auth)
            body = {"model": agent.slug, "messages": [{"role": "user", "content": "four"}]}
            refused_v1 = await api.post("/v1/chat/completions", json=body, headers=auth)
            messages = (await api.get(f"/api/v1/threads/{second}/messages", headers=auth)).json()["data"]
    assert started.status_code == 201 and in_browser.status_code == 303
    assert refused_page.status_code == 429 and "the next can start in" in refused_page.text
    assert refused_api.status_code == 429 and refused_api.headers["content-type"].startswith("application/problem+json")
    assert int(refused_api.headers["retry-after"]) >= 1 and refused_api.headers["ratelimit-policy"] == '"runs";q=2;w=60'
    assert refused_api.headers["ratelimit"].startswith('"runs";r=0;')
    assert refused_v1.status_code == 429 and refused_v1.json()["error"]["code"] == "rate_limit_exceeded"
    assert messages == []  # a refused start leaves nothing behind
