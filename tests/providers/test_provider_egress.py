"""A user's provider goes through the egress guard: the connection test, and runs.

These tests use Nova without the suite's allowlist (which trusts the scripted LLM's loopback
address), so loopback is refused for a user's provider as it is in production.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import httpcore
import pytest
from sqlalchemy import select, update

from app.agents.errors import PROVIDER_ADDRESS_REFUSED
from app.models import FinishReason, Message, MessageRole, Provider, Role, Run, RunStatus
from tests.egress.test_egress import Listener, Received, Reply
from tests.fixtures.factories import make_agent, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, nova_settings, open_nova, submit

MODELS = {"object": "list", "data": [{"id": "homelab-7b", "object": "model"}]}


async def serve_models(request: Received) -> Reply:
    return 200, {"Content-Type": "application/json"}, json.dumps(MODELS).encode()


@pytest.fixture
async def strict_nova(database_url: str, tmp_path: Path) -> AsyncIterator[Nova]:
    """Nova as deployed: nothing allowlisted."""
    async with open_nova(nova_settings(database_url, tmp_path, trust_scripted_llm=False)) as nova:
        yield nova


@pytest.fixture
def sockets_opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection httpx opens in this process (guarded or not), by address."""
    opened: list[tuple[str, int]] = []
    real = httpcore.AnyIOBackend.connect_tcp

    async def connect_tcp(self: httpcore.AnyIOBackend, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        opened.append((host, port))
        return await real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return opened


@pytest.fixture
def ports() -> Iterator[tuple[int, int]]:
    """A port open on 127.0.0.3 (and on ::1 where there is IPv6) and one that is closed."""
    with ExitStack() as stack:
        listening = stack.enter_context(socket.create_server(("127.0.0.3", 0)))
        open_port = listening.getsockname()[1]
        with suppress(OSError):
            stack.enter_context(socket.create_server(("::1", open_port), family=socket.AF_INET6))
        closed = stack.enter_context(socket.socket())
        closed.bind(("127.0.0.3", 0))  # bound, not listening: connection refused
        yield open_port, closed.getsockname()[1]


async def user_with_provider(nova: Nova, base_url: str) -> tuple[Any, uuid.UUID]:
    """A logged-in user and their provider; saving a refused address is allowed."""
    await nova.create_user("ada@example.com")
    client = await nova.login("ada@example.com")
    form = {"name": "Mine", "kind": "openai_compatible", "base_url": base_url, "api_key": "sk-user-key-1234",
            "default_model": "m", "max_context_tokens": "4096"}  # fmt: skip
    created = await submit(client, "/providers", form)
    assert created.status_code == 303, created.text
    async with nova.ctx.db.transaction() as session:
        provider = await session.scalar(select(Provider))
    assert provider is not None
    return client, provider.id


async def connection_message(nova: Nova, client: Any, provider_id: uuid.UUID, base_url: str) -> str:
    async with nova.ctx.db.transaction() as session:
        await session.execute(update(Provider).where(Provider.id == provider_id).values(base_url=base_url))
    response = await submit(client, f"/providers/{provider_id}/test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    match = re.search(r'role="(?:alert|status)">\s*(?:<strong>)?([^<]*)<', response.text)
    assert match, response.text
    return match.group(1).strip()


async def test_the_connection_test_refuses_internal_addresses_alike_for_open_and_closed_ports(
    strict_nova: Nova, ports: tuple[int, int], sockets_opened: list[tuple[str, int]]
) -> None:
    open_port, closed_port = ports
    urls = [
        f"http://127.0.0.3:{open_port}/v1",
        f"http://127.0.0.3:{closed_port}/v1",
        f"http://2130706435:{open_port}/v1",  # 127.0.0.3 in decimal
        f"http://0x7f000003:{open_port}/v1",
        f"http://127.3:{open_port}/v1",
        f"http://[::ffff:127.0.0.3]:{open_port}/v1",
        f"http://[::1]:{open_port}/v1",
        f"http://localhost:{open_port}/v1",
        "http://169.254.169.254/latest",  # a timeout, if anything tried to connect
        "http://[fd00:ec2::254]/v1",
        "http://10.0.0.1:11434/v1",
        "http://100.64.0.1/v1",
    ]
    client, provider_id = await user_with_provider(strict_nova, urls[0])
    async with client:
        results = {url: await connection_message(strict_nova, client, provider_id, url) for url in urls}
    assert set(results.values()) == {PROVIDER_ADDRESS_REFUSED}, results
    assert sockets_opened == []


async def test_the_same_url_works_for_a_system_provider_and_when_allowlisted(
    database_url: str, tmp_path: Path, sockets_opened: list[tuple[str, int]]
) -> None:
    homelab = await Listener(host="127.0.0.3", respond=serve_models).start()
    url = homelab.url("/v1").removesuffix("/")
    try:
        async with open_nova(nova_settings(database_url, tmp_path, trust_scripted_llm=False)) as nova:
            client, provider_id = await user_with_provider(nova, url)
            await nova.create_user("root@example.com", role=Role.ADMIN)
            async with await nova.login("root@example.com") as admin:
                form = {"name": "Homelab", "kind": "openai_compatible", "base_url": url, "api_key": "",
                        "default_model": "m", "max_context_tokens": "4096", "system": "on"}  # fmt: skip
                assert (await submit(admin, "/providers", form)).status_code == 303
            async with nova.ctx.db.transaction() as session:
                system = await session.scalar(select(Provider).where(Provider.owner_id.is_(None)))
            assert system is not None
            async with client:
                assert await connection_message(nova, client, provider_id, url) == PROVIDER_ADDRESS_REFUSED
                assert homelab.requests == []
                # The user may test the admin's provider: it is trusted.
                assert await connection_message(nova, client, system.id, url) == "Connected: 1 model available."
            assert len(homelab.requests) == 1
        async with open_nova(
            nova_settings(database_url, tmp_path, trust_scripted_llm=False, NOVA_EGRESS_ALLOWLIST="127.0.0.3")
        ) as nova:
            client, provider_id = await user_with_provider(nova, url)
            async with client:
                assert await connection_message(nova, client, provider_id, url) == "Connected: 1 model available."
        assert len(homelab.requests) == 2
        assert ("127.0.0.3", homelab.port) in sockets_opened
    finally:
        await homelab.stop()


async def run_to_end(nova: Nova, llm: ScriptedLLM, content: str, within: float = 30) -> tuple[Run, Message]:
    """A user whose own provider is the scripted LLM posts `content`: the run, once it ended."""
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    async with await nova.login("ada@example.com") as client:
        posted = await submit(client, f"/threads/{thread.id}/messages", {"content": content, "agent_id": str(agent.id)})
    assert posted.status_code == 303, posted.text
    deadline = time.monotonic() + within
    while True:
        async with nova.ctx.db.transaction() as session:
            run = await session.scalar(select(Run).where(Run.thread_id == thread.id))
            reply = await session.scalar(select(Message).where(Message.role == MessageRole.ASSISTANT))
        if run is not None and run.status.is_terminal and reply is not None:
            return run, reply
        assert time.monotonic() < deadline, f"run still {run and run.status}"
        await asyncio.sleep(0.05)


async def test_a_run_on_a_refused_provider_fails_clearly_without_reaching_it(
    strict_nova: Nova, llm: ScriptedLLM
) -> None:
    run, reply = await run_to_end(strict_nova, llm, "Here is my secret plan.")
    assert (run.status, run.error, run.attempts) == (RunStatus.FAILED, PROVIDER_ADDRESS_REFUSED, 1)
    assert (reply.content, reply.finish_reason) == (PROVIDER_ADDRESS_REFUSED, FinishReason.ERROR)
    assert llm.requests == []


async def test_a_run_on_an_allowlisted_provider_succeeds(database_url: str, tmp_path: Path, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Allowed."))
    async with open_nova(
        nova_settings(database_url, tmp_path, trust_scripted_llm=False, NOVA_EGRESS_ALLOWLIST="127.0.0.1")
    ) as nova:
        run, reply = await run_to_end(nova, llm, "Here is my plan.")
    assert (run.status, reply.content) == (RunStatus.COMPLETED, "Allowed.")
    assert llm.requests[0]["messages"][-1] == {"role": "user", "content": "Here is my plan."}
