"""What Nova needs to call a provider: kept apart from the model classes, so the web
process (which saves and tests providers) never imports langchain."""

from __future__ import annotations

from dataclasses import dataclass

from app.egress import EgressPolicy


@dataclass(frozen=True)
class ProviderConfig:
    kind: str
    base_url: str
    api_key: str | None
    model: str
    max_context_tokens: int
    # What a user's own provider may reach; None for a system provider, which an admin set up.
    egress: EgressPolicy | None
    # The provider's row (its circuit breaker's key) and name, for the sentence a paused one fails with.
    provider_id: str = ""
    provider_name: str = ""

    def __repr__(self) -> str:
        # Keeps the key out of logs and tracebacks that print the config.
        return f"ProviderConfig(kind={self.kind!r}, base_url={self.base_url!r}, model={self.model!r})"
