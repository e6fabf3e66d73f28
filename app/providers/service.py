"""Provider rules: validation, encrypted keys, who may change what, env seeding."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.provider_config import ProviderConfig
from app.egress import EgressPolicy
from app.errors import NotFound, require
from app.models import Provider, ProviderKind
from app.pagination import Keyset, Page, page_of
from app.providers import repository
from app.security.secretbox import SecretBox, mask_secret
from app.urls import parse_http_url

DEFAULT_BASE_URLS = {
    ProviderKind.OPENAI: "https://api.openai.com/v1",
    ProviderKind.MISTRAL: "https://api.mistral.ai/v1",
    ProviderKind.OLLAMA: "http://127.0.0.1:11434",
    ProviderKind.LLAMA_CPP: "http://127.0.0.1:8080/v1",
    ProviderKind.OPENAI_COMPATIBLE: "",
}
KEY_REQUIRED = {ProviderKind.OPENAI, ProviderKind.MISTRAL}


@dataclass(frozen=True)
class ProviderInput:
    name: str
    kind: str
    base_url: str
    api_key: str
    default_model: str
    max_context_tokens: str

    @classmethod
    def from_form(cls, form: dict[str, str]) -> ProviderInput:
        return cls(
            name=form.get("name", "").strip(),
            kind=form.get("kind", "").strip(),
            base_url=form.get("base_url", "").strip(),
            api_key=form.get("api_key", "").strip(),
            default_model=form.get("default_model", "").strip(),
            max_context_tokens=form.get("max_context_tokens", "").strip() or "8192",
        )


async def list_usable(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Provider]:
    return await repository.list_usable(session, user_id)


async def usable_after(
    session: AsyncSession, user_id: uuid.UUID | None, cursor: str | None, limit: int
) -> Page[Provider]:
    """A page for the API, newest first: the user's own and the system providers, or (with no
    user) the system ones only."""
    after = Keyset.decode(cursor) if cursor else None
    rows = await repository.usable_after(session, user_id, after, limit)
    return page_of(rows, limit, lambda p: (p.created_at, p.id))


async def get_system(session: AsyncSession, provider_id: uuid.UUID) -> Provider:
    provider = await repository.get_system(session, provider_id)
    if provider is None:
        raise NotFound(str(provider_id))
    return provider


async def get_usable(session: AsyncSession, user_id: uuid.UUID, provider_id: uuid.UUID) -> Provider:
    provider = await repository.get_usable(session, user_id, provider_id)
    if provider is None:
        raise NotFound(str(provider_id))
    return provider


MAX_REMEMBERED_MODELS = 500  # a listing far longer is no use in a picker


async def remember_models(
    session: AsyncSession,
    user_id: uuid.UUID,
    provider_id: uuid.UUID,
    models: list[str],
    context_windows: dict[str, int] | None = None,
) -> None:
    """Keep what "Test connection" listed: the model pickers offer it from then on, and runs
    budget their history with the context windows it reported."""
    provider = await get_usable(session, user_id, provider_id)
    provider.models = sorted(set(models))[:MAX_REMEMBERED_MODELS]
    provider.context_windows = {m: t for m, t in (context_windows or {}).items() if m in provider.models} or None


def context_window(provider: Provider, model: str) -> int:
    """The tokens a run may fill with `model`: what its server reported, else the provider's setting.

    Ollama reported the model's maximum, but its window is the num_ctx Nova asks for (the
    setting, app/agents/llm.py): the smaller of the two, so memory stays what the admin chose.
    """
    reported = (provider.context_windows or {}).get(model)
    if reported is None:
        return provider.max_context_tokens
    return min(reported, provider.max_context_tokens) if provider.kind is ProviderKind.OLLAMA else reported


async def get_manageable(session: AsyncSession, user_id: uuid.UUID, is_admin: bool, provider_id: uuid.UUID) -> Provider:
    """A provider this user may edit: their own, or a system one for an admin."""
    provider = await repository.get_owned(session, user_id, provider_id)
    if provider is None and is_admin:
        provider = await repository.get_system(session, provider_id)
    if provider is None:
        raise NotFound(str(provider_id))
    return provider


async def create_provider(
    session: AsyncSession, box: SecretBox, owner_id: uuid.UUID | None, data: ProviderInput
) -> Provider:
    kind, context_tokens = await _validate(session, owner_id, data, existing=None)
    provider = Provider(
        owner_id=owner_id,
        name=data.name,
        kind=kind,
        base_url=_base_url(kind, data.base_url),
        default_model=data.default_model,
        max_context_tokens=context_tokens,
    )
    _store_key(provider, box, data.api_key)
    session.add(provider)
    await session.flush()
    return provider


async def update_provider(session: AsyncSession, box: SecretBox, provider: Provider, data: ProviderInput) -> Provider:
    """Blank API key keeps the stored one, since the form never shows it back."""
    kind, context_tokens = await _validate(session, provider.owner_id, data, existing=provider)
    if (kind, _base_url(kind, data.base_url)) != (provider.kind, provider.base_url):
        provider.context_windows = None  # another server: the next test reads its own
    provider.name = data.name
    provider.kind = kind
    provider.base_url = _base_url(kind, data.base_url)
    provider.default_model = data.default_model
    provider.max_context_tokens = context_tokens
    if data.api_key:
        _store_key(provider, box, data.api_key)
    return provider


async def delete_provider(session: AsyncSession, provider: Provider) -> Sequence[uuid.UUID]:
    """Delete it; returns the active runs whose agent used it, for the caller to stop after
    the commit (its agents then have no provider, so none of those runs can call it again)."""
    using = await repository.active_run_ids(session, provider.id)
    await session.delete(provider)
    return using


def provider_config(
    provider: Provider, box: SecretBox, model: str | None = None, *, allowlist: Sequence[str]
) -> ProviderConfig:
    """What the LLM factory needs, with the key decrypted just for this use.

    A user's own provider goes through the egress guard (only the public internet and the
    admin's `allowlist`); a system provider was set up by an admin and is trusted.
    """
    key = box.decrypt(provider.api_key_encrypted) if provider.api_key_encrypted else None
    model = model or provider.default_model
    return ProviderConfig(
        kind=provider.kind.value,
        base_url=provider.base_url,
        api_key=key,
        model=model,
        max_context_tokens=context_window(provider, model),
        egress=None if provider.is_system else EgressPolicy(allow=tuple(allowlist)),
        provider_id=str(provider.id),
        provider_name=provider.name,
    )


def _store_key(provider: Provider, box: SecretBox, api_key: str) -> None:
    if api_key:
        provider.api_key_encrypted = box.encrypt(api_key)
        provider.api_key_hint = mask_secret(api_key)


def _base_url(kind: ProviderKind, base_url: str) -> str:
    return (base_url or DEFAULT_BASE_URLS[kind]).rstrip("/")


async def _validate(
    session: AsyncSession,
    owner_id: uuid.UUID | None,
    data: ProviderInput,
    existing: Provider | None,
) -> tuple[ProviderKind, int]:
    errors: dict[str, str] = {}
    if not data.name or len(data.name) > 100:
        errors["name"] = "Give the provider a name of 1 to 100 characters."
    else:
        clash = await repository.get_by_name(session, owner_id, data.name)
        if clash is not None and clash is not existing:
            errors["name"] = "A provider with this name already exists."
    kind = ProviderKind(data.kind) if data.kind in {k.value for k in ProviderKind} else None
    if kind is None:
        errors["kind"] = "Choose a provider type."
    url = data.base_url or (DEFAULT_BASE_URLS[kind] if kind else "")
    if parse_http_url(url) is None:
        errors["base_url"] = "Enter the server's address, like http://192.168.1.10:11434."
    needs_key = kind in KEY_REQUIRED and not (existing and existing.api_key_encrypted)
    if needs_key and not data.api_key:
        errors["api_key"] = "This provider needs an API key."
    if not data.default_model or len(data.default_model) > 200:
        errors["default_model"] = "Name the model to use by default, like gpt-4o-mini."
    text = data.max_context_tokens
    # ASCII digits only: "²".isdigit() is true, and int() fails on it or on thousands of digits.
    tokens = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0
    if not 256 <= tokens <= 10_000_000:
        errors["max_context_tokens"] = "Enter a whole number of tokens between 256 and 10000000."
    require(errors)
    assert kind is not None
    return kind, tokens
