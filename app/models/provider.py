"""LLM providers: a user's own, or system-wide ones (owner_id is NULL) made by admins."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedMixin, IdMixin


class ProviderKind(enum.StrEnum):
    OPENAI = "openai"
    MISTRAL = "mistral"
    OLLAMA = "ollama"
    LLAMA_CPP = "llamacpp"
    OPENAI_COMPATIBLE = "openai_compatible"

    @property
    def label(self) -> str:
        return PROVIDER_LABELS[self]


PROVIDER_LABELS = {
    ProviderKind.OPENAI: "OpenAI",
    ProviderKind.MISTRAL: "Mistral",
    ProviderKind.OLLAMA: "Ollama",
    ProviderKind.LLAMA_CPP: "llama.cpp",
    ProviderKind.OPENAI_COMPATIBLE: "OpenAI-compatible",
}


class Provider(IdMixin, CreatedMixin, Base):
    __tablename__ = "providers"

    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ProviderKind] = mapped_column(
        Enum(
            ProviderKind,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    base_url: Mapped[str] = mapped_column(String(500))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    api_key_hint: Mapped[str | None] = mapped_column(String(32))
    default_model: Mapped[str] = mapped_column(String(200))
    max_context_tokens: Mapped[int] = mapped_column(default=8192)
    # The provider's models as its last "Test connection" listed them: the forms' choices.
    models: Mapped[list[str] | None] = mapped_column(JSON)
    # The context window (tokens) that listing reported for some models: used over
    # max_context_tokens for them (app/providers/service.py, context_window).
    context_windows: Mapped[dict[str, int] | None] = mapped_column(JSON)

    @property
    def is_system(self) -> bool:
        return self.owner_id is None
