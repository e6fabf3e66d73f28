"""System providers from the environment (variable names kept from the seed project)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ProviderKind
from app.providers import repository
from app.providers.service import ProviderInput, create_provider, update_provider
from app.security.secretbox import SecretBox
from app.settings import Settings


def seeded_providers(settings: Settings) -> list[ProviderInput]:
    seeds = []
    if settings.ollama_server_url:
        seeds.append(
            _seed(
                "Ollama",
                ProviderKind.OLLAMA,
                settings.ollama_server_url,
                "",
                settings.ollama_model_name or "llama3.2",
                settings.ollama_context_length,
            )
        )
    if settings.llama_cpp_server_url:
        seeds.append(
            _seed(
                "llama.cpp",
                ProviderKind.LLAMA_CPP,
                settings.llama_cpp_server_url,
                "",
                settings.llama_cpp_model or "default",
                settings.llama_cpp_ctx_size,
            )
        )
    if settings.openai_api_key:
        seeds.append(
            _seed(
                "OpenAI",
                ProviderKind.OPENAI,
                settings.openai_base_url or "",
                settings.openai_api_key.get_secret_value(),
                settings.openai_model or "gpt-4o-mini",
                128_000,
            )
        )
    if settings.mistral_api_key:
        seeds.append(
            _seed(
                "Mistral",
                ProviderKind.MISTRAL,
                "",
                settings.mistral_api_key.get_secret_value(),
                settings.mistral_model or "mistral-small-latest",
                32_000,
            )
        )
    return seeds


def _seed(name: str, kind: ProviderKind, url: str, key: str, model: str, context: int | None) -> ProviderInput:
    return ProviderInput(name, kind.value, url, key, model, str(context or 8192))


async def seed_system_providers(session: AsyncSession, box: SecretBox, settings: Settings) -> int:
    """Create or refresh each env-configured system provider; returns how many."""
    seeds = seeded_providers(settings)
    for data in seeds:
        existing = await repository.get_by_name(session, None, data.name)
        if existing is None:
            await create_provider(session, box, None, data)
        else:
            await update_provider(session, box, existing, data)
    return len(seeds)
