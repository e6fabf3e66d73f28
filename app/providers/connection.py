"""'Test connection': ask the provider for its models without blocking the page."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.agents.errors import PROVIDER_ADDRESS_REFUSED
from app.agents.provider_config import ProviderConfig
from app.egress import EgressRefused
from app.egress.transport import GuardedAsyncTransport
from app.providers import context_windows

TIMEOUT_SECONDS = 10.0
MAX_MODELS_SHOWN = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str
    models: list[str] = field(default_factory=list)
    # {model: tokens} for the models whose server said how long a context they take.
    context_windows: dict[str, int] = field(default_factory=dict)


async def check_connection(config: ProviderConfig) -> ConnectionResult:
    ollama = config.kind == "ollama"
    url = f"{config.base_url}/api/tags" if ollama else f"{config.base_url}/models"
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    try:
        async with _client(config) as client:
            response = await client.get(url, headers=headers)
            windows = await _context_windows(client, config, headers, response) if response.status_code < 400 else {}
    except EgressRefused as exc:
        # Refused before any connection, so the answer is the same whether a port is open or not.
        log.info("Provider test refused: %s", exc)
        return ConnectionResult(False, PROVIDER_ADDRESS_REFUSED)
    except httpx.TimeoutException:
        return ConnectionResult(False, f"No answer from {config.base_url} within 10 seconds.")
    except (httpx.HTTPError, httpx.InvalidURL):
        return ConnectionResult(False, f"The provider is unreachable at {config.base_url}.")
    if response.status_code in (401, 403):
        return ConnectionResult(False, "The provider rejected the API key.")
    if response.status_code >= 400:
        return ConnectionResult(False, f"The provider answered HTTP {response.status_code}.")
    try:
        models = _model_names(response.json(), ollama)
    except (ValueError, TypeError, KeyError):
        return ConnectionResult(False, "The provider answered, but not with a model list.")
    count = len(models)
    message = f"Connected: {count} model{'' if count == 1 else 's'} available."
    windows = {model: tokens for model, tokens in windows.items() if model in models}
    if len(windows) == 1:
        [(model, tokens)] = windows.items()
        message += f" {model} takes a context of {tokens} tokens."
    elif windows:
        message += f" {len(windows)} of them say how long a context they take."
    return ConnectionResult(True, message, models, windows)


async def _context_windows(
    client: httpx.AsyncClient, config: ProviderConfig, headers: dict[str, str], listing: httpx.Response
) -> dict[str, int]:
    """What the server says of its models' context windows ({} when it says nothing)."""
    try:
        payload = listing.json()
    except ValueError:
        return {}
    if not isinstance(payload, dict):
        return {}
    if config.kind == "ollama":
        names = [str(m.get("name")) for m in payload.get("models") or [] if isinstance(m, dict)]
        return await context_windows.ollama_models(client, config.base_url, sorted(names))
    entries: list[Any] = payload["data"] if isinstance(payload.get("data"), list) else []
    found = context_windows.from_entries(entries)
    if config.kind == "llamacpp" and (slots := await context_windows.llama_cpp_slots(client, config.base_url, headers)):
        found = {str(e["id"]): slots for e in entries if isinstance(e, dict) and "id" in e}
    return found


def _client(config: ProviderConfig) -> httpx.AsyncClient:
    if config.egress is None:
        return httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
    # A pool of its own, closed with the client: the test should not keep connections open.
    transport = GuardedAsyncTransport(config.egress)
    return httpx.AsyncClient(transport=transport, trust_env=False, timeout=TIMEOUT_SECONDS)


def _model_names(payload: dict[str, list[dict[str, str]]], ollama: bool) -> list[str]:
    entries = payload["models"] if ollama else payload["data"]
    names = sorted(str(entry["name"] if ollama else entry["id"]) for entry in entries)
    return names[:MAX_MODELS_SHOWN]
