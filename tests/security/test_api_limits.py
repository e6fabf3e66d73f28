"""API requests per token and per user: sliding windows in memory, or shared through Redis."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx
import pytest

from app.security.api_limits import ApiLimiter, make_api_limiter
from app.security.sliding_window import MemoryWindows, RedisWindows
from app.settings import Settings, load_settings
from app.tokens import service as tokens
from tests.conftest import start_live
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, nova_settings, open_nova
from tests.fixtures.redis import RedisServer
from tests.fixtures.server import nova_serve

SMALL = {"NOVA_API_REQUESTS_PER_WINDOW": "3", "NOVA_API_USER_REQUESTS_PER_WINDOW": "5"}
PER_TOKEN, PER_USER = SMALL.values()
POLICY = '"token";q=3;w=60, "user";q=5;w=60'


def small_limits(**extra: str) -> Settings:
    return load_settings(_env_file=None, **(SMALL | extra))


async def new_token(nova: Nova, user_id: uuid.UUID, name: str) -> dict[str, str]:
    async with nova.ctx.db.transaction() as session:
        return {"authorization": f"Bearer {(await tokens.create_token(session, user_id, name, 'read')).secret}"}


async def test_a_request_counts_against_its_token_and_its_user_or_against_neither() -> None:
    limiter, ada, bob = ApiLimiter(MemoryWindows(), small_limits()), uuid.uuid4(), uuid.uuid4()
    first = [await limiter.hit(ada, "nova_first") for _ in range(4)]
    assert [d.allowed for d in first] == [True, True, True, False]
    assert [(w.policy.name, w.remaining) for w in first[2].windows] == [("token", 0), ("user", 2)]
    refused = first[-1].headers()
    assert refused["RateLimit-Policy"] == POLICY and 59 <= int(refused["Retry-After"]) <= 60
    assert refused["RateLimit"].startswith('"token";r=0;t=') and '"user";r=2;' in refused["RateLimit"]
    # Ada's second token has a window of its own, but both fill the same user window.
    second = [await limiter.hit(ada, "nova_second") for _ in range(3)]
    assert [d.allowed for d in second] == [True, True, False]
    assert second[-1].binding.policy.name == "user"
    # The refused request was counted nowhere: the second token still has one left.
    assert [(w.policy.name, w.remaining) for w in second[-1].windows] == [("token", 1), ("user", 0)]
    assert (await limiter.hit(bob, "nova_bobs")).allowed  # each user has windows of their own


async def test_a_refused_token_is_turned_away_before_authentication_while_its_window_is_full() -> None:
    limiter, ada = ApiLimiter(MemoryWindows(), small_limits()), uuid.uuid4()
    assert limiter.refused_already("nova_first") is None
    for _ in range(4):
        await limiter.hit(ada, "nova_first")
    remembered = limiter.refused_already("nova_first")  # no query, no Redis: this process refused it
    assert remembered is not None and not remembered.allowed and 58 <= remembered.reset_seconds <= 60
    assert remembered.headers()["RateLimit-Policy"] == POLICY
    assert limiter.refused_already("nova_second") is None


async def test_redis_shares_the_windows_between_processes_and_is_atomic(redis_url: str) -> None:
    settings = small_limits(NOVA_API_REQUESTS_PER_WINDOW="7", NOVA_API_USER_REQUESTS_PER_WINDOW="10")
    first, second = ApiLimiter(RedisWindows(redis_url), settings), ApiLimiter(RedisWindows(redis_url), settings)
    user = uuid.uuid4()
    try:
        one = await asyncio.gather(*(limiter.hit(user, "nova_one") for limiter in [first, second] * 10))
        other = await asyncio.gather(*(limiter.hit(user, "nova_two") for limiter in [first, second] * 10))
    finally:
        await first.close()
        await second.close()
    assert sum(d.allowed for d in one) == 7  # the token's window, across both processes
    assert sum(d.allowed for d in other) == 3  # what its user's window had left


async def test_with_redis_down_each_process_counts_on_its_own() -> None:
    limiter = make_api_limiter(small_limits(REDIS_URL="redis://127.0.0.1:1/0"))
    user = uuid.uuid4()
    assert [(await limiter.hit(user, "nova_t")).allowed for _ in range(4)] == [True, True, True, False]
    await limiter.close()


async def test_over_the_limit_the_api_answers_429_with_headers_and_a_problem(database_url: str, tmp_path: Path) -> None:
    settings = nova_settings(
        database_url, tmp_path, NOVA_API_REQUESTS_PER_WINDOW=PER_TOKEN, NOVA_API_USER_REQUESTS_PER_WINDOW=PER_USER
    )
    async with open_nova(settings) as nova:
        ada, bob = await nova.create_user("ada@example.com"), await nova.create_user("bob@example.com")
        first, second = await new_token(nova, ada.id, "first"), await new_token(nova, ada.id, "second")
        bobs = await new_token(nova, bob.id, "bobs")
        async with nova.client() as api:
            admitted = [await api.get("/api/v1/me", headers=first) for _ in range(3)]
            refused = await api.get("/api/v1/me", headers=first)
            on_v1 = [await api.get("/v1/models", headers=second) for _ in range(3)]
            others = await api.get("/api/v1/me", headers=bobs)
        async with await nova.login("ada@example.com") as browser:
            pages = [await browser.get("/threads") for _ in range(6)]
    assert [r.status_code for r in admitted] == [200] * 3
    assert re.fullmatch(r'"token";r=2;t=(59|60), "user";r=4;t=(59|60)', admitted[0].headers["ratelimit"])
    assert admitted[0].headers["ratelimit-policy"] == POLICY and "retry-after" not in admitted[0].headers
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and refused.headers["ratelimit-policy"] == POLICY
    assert refused.headers["ratelimit"].startswith('"token";r=0;')
    problem = refused.json()
    assert (problem["status"], problem["title"]) == (429, "Too Many Requests")
    assert problem["detail"].startswith("This token made 3 API requests in the last 60 s; try again in")
    assert problem["request_id"] == refused.headers["x-request-id"]
    # The other token of the same user fills the user window, and /v1 answers as OpenAI does.
    assert [r.status_code for r in on_v1] == [200, 200, 429]
    error = on_v1[-1].json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert error["message"].startswith("Your tokens together made 5 API requests")
    assert '"user";r=0;' in on_v1[-1].headers["ratelimit"]
    assert others.status_code == 200  # another user is not affected
    # Browser pages are not API traffic: never counted, never refused.
    assert [p.status_code for p in pages] == [200] * 6 and "ratelimit" not in pages[0].headers


async def test_an_event_stream_counts_once_however_many_events_it_carries(
    database_url: str, tmp_path: Path, llm: ScriptedLLM
) -> None:
    settings = nova_settings(database_url, tmp_path, NOVA_API_REQUESTS_PER_WINDOW="10", NOVA_STREAM_COALESCE_MS="0")
    async with open_nova(settings) as nova:
        user = await nova.create_user("ada@example.com")
        await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
        async with nova.ctx.db.transaction() as session:
            auth = {"authorization": f"Bearer {(await tokens.create_token(session, user.id, 't', 'write')).secret}"}
        llm.queue(ScriptedReply(text=" ".join(f"w{n}" for n in range(20)), tokens_per_second=400))
        async with nova.client() as api:
            thread = (await api.post("/api/v1/threads", json={}, headers=auth)).json()["id"]
            run = (await api.post(f"/api/v1/threads/{thread}/messages", json={"content": "hi"}, headers=auth)).json()
            stream = await api.get(f"/api/v1/runs/{run['run_id']}/events", headers=auth)
            after = await api.get("/api/v1/me", headers=auth)
    assert stream.status_code == 200 and stream.text.count("event: message.delta") >= 5
    assert after.headers["ratelimit"].startswith('"token";r=6;')  # 4 requests, of which one stream


@pytest.mark.live
async def test_two_web_processes_share_the_windows_through_redis_and_fall_back_when_it_is_down(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM, redis_server: RedisServer
) -> None:
    async with start_live(request, "scaled", tmp_path, workers=0, **SMALL) as live:
        first = {"authorization": f"Bearer {await live.seed(llm.base_url)}"}
        async with live.db.transaction() as session:
            issued = await tokens.create_token(session, live.user_id, "two", "read")
        second = {"authorization": f"Bearer {issued.secret}"}
        with nova_serve(tmp_path, **live.env) as other:
            webs = [httpx.AsyncClient(base_url=url, timeout=30) for url in (live.url, other.url)]
            try:
                shared = [(await webs[n % 2].get("/api/v1/me", headers=first)).status_code for n in range(4)]
                user_wide = [(await webs[n % 2].get("/api/v1/me", headers=second)).status_code for n in range(3)]
                redis_server.stop()
                try:
                    on_its_own = [(await webs[0].get("/api/v1/me", headers=first)).status_code for _ in range(4)]
                    also = (await webs[1].get("/api/v1/me", headers=second)).status_code
                finally:
                    redis_server.start()
            finally:
                for web in webs:
                    await web.aclose()
    assert shared == [200, 200, 200, 429]  # three on two processes fill the token's window
    assert user_wide == [200, 200, 429]  # ...and the user's, with the other token
    # Redis down: each process counts in memory, within the same limits (the first process
    # had not refused the first token, nor the second process the second token).
    assert on_its_own == [200, 200, 200, 429] and also == 200
