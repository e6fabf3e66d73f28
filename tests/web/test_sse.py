"""The one SSE helper: lifetime limit, reconnect hint, and how a stream that cannot resume ends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import httpx2
import openai
import pytest
from openai import AsyncOpenAI
from sse_starlette import ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route

from app.tokens import service as tokens
from app.web.sse import sse_response
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import nova_settings, open_nova

FAREWELL = [ServerSentEvent("goodbye"), ServerSentEvent("[DONE]")]
REVOKED = [ServerSentEvent("signed out"), ServerSentEvent("[DONE]")]


async def _frames(count: int | None) -> AsyncIterator[ServerSentEvent]:
    """`count` frames, or one every 0.1 s forever."""
    index = 0
    while count is None or index < count:
        yield ServerSentEvent(f"frame {index}")
        index += 1
        await asyncio.sleep(0.1 if count is None else 0)


async def _serve(
    tmp_path: Path,
    count: int | None,
    farewell: list[ServerSentEvent] | None,
    *,
    signed_in: Callable[[], bool] = lambda: True,
    lifetime: str = "0.5",
) -> tuple[str, float]:
    settings = nova_settings("sqlite+aiosqlite:///unused.db", tmp_path, NOVA_SSE_MAX_LIFETIME_SECONDS=lifetime,
                             NOVA_SSE_REAUTH_SECONDS="0.2")  # fmt: skip

    async def stream(request: Request) -> Response:
        return sse_response(request, _frames(count), settings, headers={"X-Nova-Run-Id": "r1"}, farewell=farewell,
                            revoked=REVOKED)  # fmt: skip

    async def reauthenticate(conn: HTTPConnection) -> bool:
        return signed_in()

    app = Starlette(routes=[Route("/stream", stream)])
    app.state.reauthenticate = reauthenticate
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        started = time.monotonic()
        response = await client.get("/stream")
    assert response.headers["x-nova-run-id"] == "r1"
    assert response.headers["x-accel-buffering"] == "no" and response.headers["cache-control"] == "no-store"
    return response.text, time.monotonic() - started


async def test_a_resumable_stream_ends_at_its_lifetime_and_asks_for_a_reconnect(tmp_path: Path) -> None:
    body, took = await _serve(tmp_path, None, None)
    assert body.startswith("retry: 1000")
    assert "data: frame 0" in body and "goodbye" not in body
    assert 0.4 < took < 3


async def test_a_stream_that_cannot_resume_says_goodbye_at_its_lifetime(tmp_path: Path) -> None:
    body, _took = await _serve(tmp_path, None, FAREWELL)
    assert "retry:" not in body
    assert body.rstrip().endswith("data: goodbye\r\n\r\ndata: [DONE]")


async def test_a_stream_that_ends_in_time_has_no_goodbye(tmp_path: Path) -> None:
    body, _took = await _serve(tmp_path, 3, FAREWELL)
    assert "data: frame 2" in body
    assert "goodbye" not in body and "[DONE]" not in body


async def test_a_stream_ends_soon_after_its_credentials_stop_validating(tmp_path: Path) -> None:
    revoked_at = time.monotonic() + 0.5

    def signed_in() -> bool:
        return time.monotonic() < revoked_at

    body, took = await _serve(tmp_path, None, FAREWELL, signed_in=signed_in, lifetime="30")
    assert 0.5 < took < 1.5  # the next check after the revocation, not the 30 s lifetime
    assert "data: frame 3" in body  # frames flowed while the checks passed
    assert body.rstrip().endswith("data: signed out\r\n\r\ndata: [DONE]")
    assert "goodbye" not in body


async def test_a_check_that_fails_closes_the_stream(tmp_path: Path) -> None:
    def broken() -> bool:
        raise ConnectionError("database down")

    body, took = await _serve(tmp_path, None, None, signed_in=broken, lifetime="30")
    assert took < 1.5 and body.startswith("retry: 1000")


def _words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


async def test_a_v1_stream_cut_at_its_lifetime_ends_with_an_openai_error(
    database_url: str, tmp_path: Path, llm: ScriptedLLM
) -> None:
    """Official openai clients never reconnect: they get an error naming the thread, not a silent end."""
    settings = nova_settings(database_url, tmp_path, NOVA_SSE_MAX_LIFETIME_SECONDS="1.5")
    full = _words(40)
    async with open_nova(settings) as nova:
        user = await nova.create_user("ada@example.com")
        await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
        async with nova.ctx.db.transaction() as session:
            token = (await tokens.create_token(session, user.id, "tests", "write")).secret
        llm.queue(ScriptedReply(text=full, tokens_per_second=20))
        # The openai client brings its own httpx fork; it too can call the app in-process.
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=nova.app), base_url="http://testserver")
        text = ""
        async with AsyncOpenAI(base_url="http://testserver/v1", api_key=token, http_client=http) as client:
            async with client.chat.completions.with_streaming_response.create(
                model="helper", messages=[{"role": "user", "content": "Talk for a while."}], stream=True
            ) as response:
                run_id, thread_id = response.headers["x-nova-run-id"], response.headers["x-nova-thread-id"]
                with pytest.raises(openai.APIError) as cut:
                    async for chunk in await response.parse():
                        text += chunk.choices[0].delta.content or "" if chunk.choices else ""
        async with nova.client() as api:
            api.headers["authorization"] = f"Bearer {token}"
            for _ in range(200):
                run = (await api.get(f"/api/v1/runs/{run_id}")).json()
                if run["status"] != "running":
                    break
                await asyncio.sleep(0.05)
    assert "the thread (X-Nova-Thread-Id) has the full answer" in cut.value.message
    assert isinstance(cut.value.body, dict) and cut.value.body["code"] == "stream_lifetime_exceeded"
    assert text and full.startswith(text) and text != full  # cut mid-reply
    assert run["status"] == "completed" and run["thread_id"] == thread_id
    assert run["message"]["content"] == full
