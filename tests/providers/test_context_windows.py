"""Context windows as providers report them (app/providers/context_windows.py): read by "Test
connection" from the scripted provider, kept per model, and used by runs over the setting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Provider, ProviderKind
from app.providers import context_windows
from app.providers.connection import check_connection
from app.providers.service import ProviderInput, context_window, create_provider, provider_config, update_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, submit


@pytest.fixture
def scripted(llm: ScriptedLLM) -> Iterator[ScriptedLLM]:
    yield llm
    llm.model_meta, llm.props = {}, None


def test_the_fields_servers_use_are_read_from_model_entries() -> None:
    entries: list[Any] = [
        {"id": "vllm-model", "max_model_len": 32768},
        {"id": "router-model", "context_length": 200_000},
        {"id": "groq-model", "context_window": 131_072},
        {"id": "mistral-model", "max_context_length": 128_000},
        {"id": "llamacpp-model", "meta": {"n_ctx_train": 4096, "n_vocab": 32000}},
        {"id": "plain-model"},
        {"id": "odd-model", "max_model_len": True, "context_length": "8192"},
        {"id": "tiny-model", "context_length": 16},
        {"no-id": 1},
        "not an entry",
    ]
    assert context_windows.from_entries(entries) == {
        "vllm-model": 32768,
        "router-model": 200_000,
        "groq-model": 131_072,
        "mistral-model": 128_000,
        "llamacpp-model": 4096,
    }


def test_a_reported_window_wins_over_the_setting_but_not_for_ollama() -> None:
    provider = Provider(kind=ProviderKind.OPENAI_COMPATIBLE, max_context_tokens=8192, context_windows={"big": 32768})
    assert context_window(provider, "big") == 32768 and context_window(provider, "other") == 8192
    # Ollama's window is the num_ctx Nova asks for: the setting, within the model's maximum.
    ollama = Provider(kind=ProviderKind.OLLAMA, max_context_tokens=8192, context_windows={"big": 32768, "small": 2048})
    assert context_window(ollama, "big") == 8192 and context_window(ollama, "small") == 2048


async def test_test_connection_keeps_the_windows_a_run_then_uses(nova: Nova, scripted: ScriptedLLM) -> None:
    scripted.model_meta = {"scripted-small": {"max_model_len": 2048}}
    user = await nova.create_user("ada@example.com")
    data = ProviderInput("Homelab", "openai_compatible", scripted.base_url, "", "scripted-small", "8192")
    async with nova.ctx.db.transaction() as session:
        provider = await create_provider(session, nova.ctx.secretbox, user.id, data)
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, f"/providers/{provider.id}/test", headers={"HX-Request": "true"})
    assert "Connected: 2 models available. scripted-small takes a context of 2048 tokens." in response.text
    async with nova.ctx.db.transaction() as session:
        kept = await session.scalar(select(Provider).where(Provider.id == provider.id))
        assert kept is not None and kept.context_windows == {"scripted-small": 2048}
        allow = nova.ctx.settings.egress_allowlist
        assert provider_config(kept, nova.ctx.secretbox, allowlist=allow).max_context_tokens == 2048
        assert provider_config(kept, nova.ctx.secretbox, "scripted-large", allowlist=allow).max_context_tokens == 8192
        # Another server's models may differ: a new address forgets what the old one said.
        moved = ProviderInput("Homelab", "openai_compatible", scripted.base_url + "/", "", "scripted-small", "8192")
        await update_provider(session, nova.ctx.secretbox, kept, moved)
        assert kept.context_windows == {"scripted-small": 2048}  # the same address, written differently
        moved = ProviderInput("Homelab", "llamacpp", scripted.base_url, "", "scripted-small", "8192")
        await update_provider(session, nova.ctx.secretbox, kept, moved)
        assert kept.context_windows is None


async def test_llama_cpp_slots_and_ollama_models_say_their_windows(scripted: ScriptedLLM) -> None:
    def config(kind: str, base_url: str) -> Any:
        from app.agents.provider_config import ProviderConfig

        return ProviderConfig(kind, base_url, None, "scripted-small", 8192, None)

    scripted.model_meta = {"scripted-small": {"meta": {"n_ctx_train": 131072}}}
    trained = await check_connection(config("llamacpp", scripted.base_url))
    assert trained.context_windows == {"scripted-small": 131072}  # no /props: what it was trained for
    scripted.props = {"default_generation_settings": {"n_ctx": 8192}}
    served = await check_connection(config("llamacpp", scripted.base_url))
    # What the server was started with wins, for its one model (whatever name it lists).
    assert served.context_windows == {"scripted-small": 8192, "scripted-large": 8192}

    scripted.model_meta = {
        "scripted-large": {"model_info": {"general.architecture": "qwen3", "qwen3.context_length": 40960}}
    }
    ollama = await check_connection(config("ollama", scripted.base_url.removesuffix("/v1")))
    assert ollama.ok and ollama.models == ["scripted-large", "scripted-small"]
    assert ollama.context_windows == {"scripted-large": 40960}
