"""'Test connection': ask the provider for its models without blocking the page."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from app.agents.errors import PROVIDER_ADDRESS_REFUSED
from app.agents.provider_config import ProviderConfig
from app.egress import EgressRefused
from app.egress.transport import GuardedAsyncTransport

TIMEOUT_SECONDS = 10.0
MAX_MODELS_SHOWN = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str
    models: list[str] = field(default_factory=list)


async def check_connection(config: ProviderConfig) -> ConnectionResult:
    ollama = config.kind == "ollama"
    url = f"{config.base_url}/api/tags" if ollama else f"{config.base_url}/models"
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    try:
        async with _client(config) as client:
            response = await client.get(url, headers=headers)
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
    return ConnectionResult(True, f"Connected: {count} model{'' if count == 1 else 's'} available.", models)


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
