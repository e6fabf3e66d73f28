"""The factory builds each provider's langchain class, and a real call reaches the server."""

from __future__ import annotations

from langchain_mistralai import ChatMistralAI
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI

from app.agents.llm import ProviderConfig, build_chat_model
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply


def config(kind: str, base_url: str = "http://127.0.0.1:1/v1", key: str | None = "k") -> ProviderConfig:
    return ProviderConfig(kind=kind, base_url=base_url, api_key=key, model="m", max_context_tokens=4096)


def test_each_kind_gets_its_class() -> None:
    assert isinstance(build_chat_model(config("openai")), ChatOpenAI)
    assert isinstance(build_chat_model(config("llamacpp", key=None)), ChatOpenAI)
    assert isinstance(build_chat_model(config("openai_compatible")), ChatOpenAI)
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
