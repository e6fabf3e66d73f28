"""The factory builds each provider's langchain class, and a real call reaches the server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_mistralai import ChatMistralAI
from langchain_ollama import ChatOllama

from app.agents.errors import PROVIDER_ADDRESS_REFUSED, classify
from app.agents.lean_chat import LeanChatOpenAI
from app.agents.llm import ProviderConfig, build_chat_model
from app.egress import EgressPolicy, EgressRefused
from tests.egress.test_egress import Listener, redirect_to
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply


def config(kind: str, base_url: str = "http://127.0.0.1:1/v1", key: str | None = "k") -> ProviderConfig:
    return ProviderConfig(kind=kind, base_url=base_url, api_key=key, model="m", max_context_tokens=4096, egress=None)


def test_each_kind_gets_its_class() -> None:
    assert isinstance(build_chat_model(config("openai")), LeanChatOpenAI)
    assert isinstance(build_chat_model(config("llamacpp", key=None)), LeanChatOpenAI)
    assert isinstance(build_chat_model(config("openai_compatible")), LeanChatOpenAI)
    assert isinstance(build_chat_model(config("mistral")), ChatMistralAI)
    assert isinstance(build_chat_model(config("ollama", "http://127.0.0.1:1")), ChatOllama)


def test_config_repr_never_shows_the_key() -> None:
    assert "secret-key" not in repr(config("openai", key="secret-key"))


async def test_openai_compatible_model_streams_from_the_server(llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="one two three"))
    model = build_chat_model(config("openai_compatible", llm.base_url), temperature=0.2)
    pieces = [chunk.content async for chunk in model.astream("hi")]
    assert "".join(str(p) for p in pieces) == "one two three"
    assert llm.requests[-1]["temperature"] == 0.2
    assert llm.requests[-1]["model"] == "m"


# --- a user's own provider goes through the egress guard ---------------------------------------

NOTHING_ALLOWED = EgressPolicy()
LOOPBACK_ALLOWED = EgressPolicy(allow=("127.0.0.1",))
KINDS = ["openai_compatible", "ollama", "mistral"]


def users_config(kind: str, origin: str, egress: EgressPolicy) -> ProviderConfig:
    base_url = origin if kind == "ollama" else f"{origin}/v1"
    return ProviderConfig(kind=kind, base_url=base_url, api_key="k", model="m", max_context_tokens=4096, egress=egress)


@pytest.fixture
def silent_port() -> Iterator[socket.socket]:
    """A port that listens but never accepts: any connection attempt waits in its backlog."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.setblocking(False)
        yield sock


def connections_waiting(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            connection, _ = sock.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_users_provider_on_a_refused_address_is_never_reached(kind: str, silent_port: socket.socket) -> None:
    origin = f"http://127.0.0.1:{silent_port.getsockname()[1]}"
    model = build_chat_model(users_config(kind, origin, NOTHING_ALLOWED))
    with pytest.raises(EgressRefused) as refused:
        async with asyncio.timeout(10):  # an unguarded client would wait here for an answer
            _ = [chunk async for chunk in model.astream("hi")]
    assert classify(refused.value, origin, "m").message == PROVIDER_ADDRESS_REFUSED
    assert connections_waiting(silent_port) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_the_sync_clients_of_a_users_provider_are_guarded_too(kind: str) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: an unguarded client gets "refused"
        model = build_chat_model(users_config(kind, f"http://127.0.0.1:{closed.getsockname()[1]}", NOTHING_ALLOWED))
        with pytest.raises(EgressRefused):
            model.invoke("hi")


async def test_a_users_allowlisted_provider_streams_token_by_token(llm: ScriptedLLM) -> None:
    text = " ".join(f"w{n}" for n in range(30))
    llm.queue(ScriptedReply(text=text, tokens_per_second=30), ScriptedReply(text="sync too"))
    model = build_chat_model(users_config("openai_compatible", llm.base_url.removesuffix("/v1"), LOOPBACK_ALLOWED))
    started, arrivals, pieces = time.monotonic(), [], []
    async for chunk in model.astream("hi"):
        if chunk.content:
            arrivals.append(time.monotonic() - started)
            pieces.append(str(chunk.content))
    assert "".join(pieces) == text
    # Tokens arrive as the server writes them (over about a second), not all at the end.
    assert arrivals[0] < arrivals[-1] / 2
    assert model.invoke("hi").content == "sync too"


async def test_a_redirect_from_a_users_provider_is_checked_again() -> None:
    inside = await Listener(host="127.0.0.3").start()
    bounce = await Listener(host="127.0.0.1", respond=redirect_to(inside.url("/v1/chat/completions"), 307)).start()
    try:
        model = build_chat_model(users_config("openai_compatible", bounce.url("/").rstrip("/"), LOOPBACK_ALLOWED))
        with pytest.raises(EgressRefused):
            await model.ainvoke("hi")
    finally:
        await bounce.stop()
        await inside.stop()
    assert [r.path for r in bounce.requests] == ["/v1/chat/completions"]
    assert inside.requests == []


async def test_a_users_provider_connects_to_the_address_that_was_checked(
    llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the name answers an allowed address once, then a refused one.
    answers = iter(["127.0.0.1", *["127.0.0.3"] * 5])
    asked: list[str] = []
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return await real(host, port, *args, **kwargs)
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (next(answers), port))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    llm.queue(ScriptedReply(text="pinned"))
    model = build_chat_model(users_config("openai_compatible", f"http://rebind.test:{llm.port}", LOOPBACK_ALLOWED))
    assert (await model.ainvoke("hi")).content == "pinned"
    assert asked == ["rebind.test"]
