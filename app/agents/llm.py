"""One small factory from a provider's settings to a langchain chat model."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import SecretStr

REQUEST_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class ProviderConfig:
    kind: str
    base_url: str
    api_key: str | None
    model: str
    max_context_tokens: int

    def __repr__(self) -> str:
        # Keeps the key out of logs and tracebacks that print the config.
        return f"ProviderConfig(kind={self.kind!r}, base_url={self.base_url!r}, model={self.model!r})"


def build_chat_model(config: ProviderConfig, *, temperature: float = 0.7) -> BaseChatModel:
    """Mistral and Ollama have their own classes; everything else speaks OpenAI's API."""
    if config.kind == "mistral":
        from langchain_mistralai import ChatMistralAI

        return ChatMistralAI(
            model_name=config.model,
            api_key=SecretStr(config.api_key or ""),
            endpoint=config.base_url,
            temperature=temperature,
            timeout=int(REQUEST_TIMEOUT_SECONDS),
            max_retries=0,
        )
    if config.kind == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=config.model,
            base_url=config.base_url,
            temperature=temperature,
            num_ctx=config.max_context_tokens,
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        # Local servers (llama.cpp, vLLM...) often need no key, but the client wants one.
        api_key=SecretStr(config.api_key or "not-needed"),
        temperature=temperature,
        timeout=REQUEST_TIMEOUT_SECONDS,
        max_retries=0,
        stream_usage=True,
    )
