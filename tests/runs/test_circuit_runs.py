"""Runs against a failing provider: its circuit breaker opens, runs fail at once without calling
it, one probe goes through after the pause and its success closes it (in-process Nova)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from app.models import Run, RunStatus, User
from app.tokens import service as tokens
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, nova_settings, open_nova
from tests.fixtures.runs import finished_run

OPEN_SECONDS = 1


@pytest.fixture
async def nova(database_url: str, tmp_path: Path) -> AsyncIterator[Nova]:
    settings = nova_settings(
        database_url, tmp_path, NOVA_PROVIDER_RETRIES="0", NOVA_PROVIDER_BREAKER_FAILURES="2",
        NOVA_PROVIDER_BREAKER_OPEN_SECONDS=str(OPEN_SECONDS),
    )  # fmt: skip
    async with open_nova(settings) as harness:
        yield harness


class Chat:
    """One user's thread, talked to through the API; each message's run waited for."""

    def __init__(self, nova: Nova, user: User, secret: str, thread_id: str) -> None:
        self.nova, self.user, self.secret, self.thread_id = nova, user, secret, thread_id

    @classmethod
    async def start(cls, nova: Nova, llm: ScriptedLLM) -> tuple[Chat, str]:
        user = await nova.create_user("ada@example.com")
        provider = await make_provider(nova, user.id, llm.base_url)
        await make_agent(nova, user.id, provider)
        async with nova.ctx.db.transaction() as session:
            secret = (await tokens.create_token(session, user.id, "chat", "write")).secret
        async with nova.client() as client:
            thread = await client.post("/api/v1/threads", json={}, headers={"authorization": f"Bearer {secret}"})
        return cls(nova, user, secret, thread.json()["id"]), str(provider.id)

    async def say(self, text: str) -> Run:
        async with self.nova.client() as client:
            posted = await client.post(f"/api/v1/threads/{self.thread_id}/messages", json={"content": text},
                                       headers={"authorization": f"Bearer {self.secret}"})  # fmt: skip
        assert posted.status_code in (200, 201, 202), posted.text
        return await finished_run(self.nova, uuid.UUID(posted.json()["run_id"]))


async def _providers_page(nova: Nova) -> str:
    client = await nova.login("ada@example.com")
    try:
        page = await client.get("/providers")
    finally:
        await client.aclose()
    assert page.status_code == 200
    return page.text


def _gauge(provider_id: str) -> float | None:
    return REGISTRY.get_sample_value("nova_provider_circuit_open", {"provider": provider_id})


async def test_failures_pause_the_provider_then_one_probe_closes_it(nova: Nova, llm: ScriptedLLM) -> None:
    chat, provider_id = await Chat.start(nova, llm)
    llm.queue(ScriptedReply(status=500), ScriptedReply(status=500))
    for text in ("one", "two"):
        failed = await chat.say(text)
        assert failed.status == RunStatus.FAILED and failed.error == "The provider failed with HTTP 500."
    assert len(llm.requests) == 2 and _gauge(provider_id) == 1

    fast = await chat.say("three")
    assert fast.status == RunStatus.FAILED and len(llm.requests) == 2  # the provider was not called
    assert fast.error is not None
    assert fast.error.startswith("Nova stopped calling Local for 1 s after 2 failures in a row; try again at ")
    assert fast.error.endswith(" UTC or pick another model.")
    assert "Paused after failures (until " in await _providers_page(nova)

    await asyncio.sleep(OPEN_SECONDS + 0.1)
    page = await _providers_page(nova)
    assert "Probing" in page and "Paused after failures" not in page
    llm.queue(ScriptedReply(text="Back again."))
    probe = await chat.say("four")
    assert probe.status == RunStatus.COMPLETED and len(llm.requests) == 3
    page = await _providers_page(nova)
    assert "Probing" not in page and "Paused after failures" not in page
    assert _gauge(provider_id) == 0


async def test_a_failed_probe_pauses_it_again(nova: Nova, llm: ScriptedLLM) -> None:
    chat, _ = await Chat.start(nova, llm)
    llm.queue(*[ScriptedReply(status=503)] * 3)
    await chat.say("one")
    await chat.say("two")
    await asyncio.sleep(OPEN_SECONDS + 0.1)
    probe = await chat.say("probe")
    assert probe.error == "The provider failed with HTTP 503." and len(llm.requests) == 3
    again = await chat.say("again")
    assert again.error is not None and again.error.startswith("Nova stopped calling Local")
    assert len(llm.requests) == 3


async def test_a_rejected_key_never_pauses_the_provider(nova: Nova, llm: ScriptedLLM) -> None:
    chat, provider_id = await Chat.start(nova, llm)
    llm.api_key = "sk-another-key"  # the provider answers 401 to Nova's key
    for text in ("one", "two", "three"):
        run = await chat.say(text)
        # Each answer came from the provider: none was refused by an open breaker.
        assert run.status == RunStatus.FAILED and run.error == "The provider rejected the API key."
    assert "Paused after failures" not in await _providers_page(nova)
    assert _gauge(provider_id) is None
