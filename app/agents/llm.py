"""One small factory from a provider's settings to a langchain chat model."""

from __future__ import annotations

from typing import Any

import httpx
from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import SecretStr

from app.agents.provider_config import ProviderConfig
from app.egress import EgressPolicy
from app.egress.transport import GuardedTransport, shared_async_transport

REQUEST_TIMEOUT_SECONDS = 120.0


def build_chat_model(
    config: ProviderConfig,
    *,
    temperature: float = 0.7,
    stream_window: float = 0.0,
    max_tokens: int | None = None,
    stop: tuple[str, ...] = (),
) -> BaseChatModel:
    """Mistral and Ollama have their own classes; everything else speaks OpenAI's API.

    A user's own provider is reached only through the egress guard's transports.
    """
    if config.kind == "mistral":
        from langchain_mistralai import ChatMistralAI

        return ChatMistralAI(
            model_name=config.model,
            api_key=SecretStr(config.api_key or ""),
            endpoint=config.base_url,
            temperature=temperature,
            max_tokens=max_tokens,
            stop=list(stop) or None,
            timeout=int(REQUEST_TIMEOUT_SECONDS),
            max_retries=0,
            **_mistral_clients(config),
        )
    if config.kind == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=config.model,
            base_url=config.base_url,
            temperature=temperature,
            num_ctx=config.max_context_tokens,
            num_predict=max_tokens,
            stop=list(stop) or None,
            **_ollama_clients(config),
        )
    from app.agents.lean_chat import LeanChatOpenAI

    # OpenAI, llama.cpp, vLLM, Ollama's /v1...: the lean raw-stream model.
    return LeanChatOpenAI(
        model_name=config.model,
        base_url=config.base_url,
        api_key=SecretStr(config.api_key) if config.api_key else None,
        temperature=temperature,
        timeout=REQUEST_TIMEOUT_SECONDS,
        egress=config.egress,
        read_window_seconds=stream_window,
        max_tokens=max_tokens,
        stop=list(stop) or None,
    )


def _guarded_async_client(policy: EgressPolicy, provider_url: str, /, **options: Any) -> httpx.AsyncClient:
    # One connection pool per provider URL, shared by its runs.
    transport = shared_async_transport(policy, provider_url)
    return httpx.AsyncClient(transport=transport, trust_env=False, **options)


def _guarded_client(policy: EgressPolicy, **options: Any) -> httpx.Client:
    # Runs are async; the SDKs build a sync client too, which must not be a way around the guard.
    return httpx.Client(transport=GuardedTransport(policy), trust_env=False, **options)


def _ollama_clients(config: ProviderConfig) -> dict[str, Any]:
    if config.egress is None:
        return {}
    return {
        "sync_client_kwargs": {"transport": GuardedTransport(config.egress), "trust_env": False},
        "async_client_kwargs": {
            "transport": shared_async_transport(config.egress, config.base_url),
            "trust_env": False,
        },
    }


def _mistral_clients(config: ProviderConfig) -> dict[str, Any]:
    if config.egress is None:
        return {}
    # Given clients replace the ones langchain-mistralai would build: the same settings.
    options: dict[str, Any] = {
        "base_url": config.base_url,
        "headers": {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {config.api_key or ''}",
        },
        "timeout": REQUEST_TIMEOUT_SECONDS,
    }
    return {
        "client": _guarded_client(config.egress, **options),
        "async_client": _guarded_async_client(config.egress, config.base_url, **options),
    }
