"""The context window each model has, where its server says so.

Read when "Test connection" lists the models; a run then budgets its history with it instead
of the provider's max_context_tokens (service.context_window). Servers report it in their
own ways:

- in /v1/models entries: vLLM `max_model_len`, OpenRouter and Together `context_length`,
  Groq `context_window`, Mistral and LM Studio `max_context_length`, llama.cpp
  `meta.n_ctx_train` (what the model was trained for);
- llama.cpp's /props: `n_ctx` of its slots, what the server was started with (wins);
- Ollama's /api/show: `model_info["<architecture>.context_length"]`, per model.

Anything missing or malformed is left out: the provider's setting then applies.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

ENTRY_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length")
# Ollama answers /api/show one model at a time: the first ones listed, asked together.
MAX_OLLAMA_MODELS = 20
SMALLEST, LARGEST = 256, 100_000_000  # anything outside is not a context window


def from_entries(entries: list[Any]) -> dict[str, int]:
    """{model id: tokens} from an OpenAI-style /v1/models `data` list."""
    found: dict[str, int] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        meta = entry["meta"] if isinstance(entry.get("meta"), dict) else {}
        values = [entry.get(key) for key in ENTRY_KEYS] + [meta.get("n_ctx_train")]
        if (tokens := next((t for v in values if (t := _tokens(v)) is not None), None)) is not None:
            found[entry["id"]] = tokens
    return found


async def llama_cpp_slots(client: httpx.AsyncClient, base_url: str, headers: dict[str, str]) -> int | None:
    """The context of the server's slots (one model per server), from /props; None if unsaid."""
    root = base_url.removesuffix("/v1")
    try:
        response = await client.get(f"{root}/props", headers=headers)
        props = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(props, dict):
        return None
    settings = props.get("default_generation_settings")
    nested = settings.get("n_ctx") if isinstance(settings, dict) else None
    return _tokens(nested) or _tokens(props.get("n_ctx"))


async def ollama_models(client: httpx.AsyncClient, base_url: str, models: list[str]) -> dict[str, int]:
    """{model: tokens} from Ollama's /api/show for the first MAX_OLLAMA_MODELS models."""

    async def show(model: str) -> tuple[str, int | None]:
        try:
            response = await client.post(f"{base_url}/api/show", json={"model": model})
            info = response.json().get("model_info") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return model, None
        if not isinstance(info, dict):
            return model, None
        lengths = [_tokens(v) for k, v in info.items() if str(k).endswith(".context_length")]
        return model, next((t for t in lengths if t is not None), None)

    shown = await asyncio.gather(*(show(model) for model in models[:MAX_OLLAMA_MODELS]))
    return {model: tokens for model, tokens in shown if tokens is not None}


def _tokens(value: Any) -> int | None:
    # bool is an int: a `true` is no size.
    if isinstance(value, int) and not isinstance(value, bool) and SMALLEST <= value <= LARGEST:
        return value
    return None
