"""Provider failures as messages a person understands, and whether a retry may help."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from app.agents.chat_stream import ProviderStreamError
from app.egress import EgressRefused

# Shown for a user's provider on an address the egress policy refuses; the policy's own reason
# (which says what a name resolved to) stays in the log.
PROVIDER_ADDRESS_REFUSED = (
    "This address is not allowed for your providers; an admin can allow it with NOVA_EGRESS_ALLOWLIST."
)


@dataclass(frozen=True)
class ProviderFailure(Exception):
    message: str
    transient: bool
    kind: str  # "auth", "unreachable", "refused", "rate_limited", "server", "request", "unknown"

    def __str__(self) -> str:
        return self.message

    def after_retries(self, retries: int) -> ProviderFailure:
        """The final message once retries ran out."""
        if not self.transient or retries == 0:
            return self
        times = "once" if retries == 1 else f"{retries} times"
        if self.kind == "rate_limited":
            return ProviderFailure(f"The provider rate-limited the request; retried {times}.",
                                   False, self.kind)  # fmt: skip
        return ProviderFailure(f"{self.message} (retried {times})", False, self.kind)


DATABASE_BUSY_MESSAGE = "Nova's database was briefly unavailable."


def classify(exc: BaseException, base_url: str, model: str) -> ProviderFailure:
    if is_database_outage(exc):
        # The checkpointer lost its connection: retried like a provider hiccup, never the model's fault.
        return ProviderFailure(DATABASE_BUSY_MESSAGE, True, "database")
    if _caused_by(exc, EgressRefused):
        return ProviderFailure(PROVIDER_ADDRESS_REFUSED, False, "refused")
    status = _status_of(exc)
    if status in (401, 403):
        return ProviderFailure("The provider rejected the API key.", False, "auth")
    if status == 404:
        return ProviderFailure(
            f"The provider does not know the model “{model}” (or the address is wrong).",
            False, "request",
        )  # fmt: skip
    if status == 429:
        return ProviderFailure("The provider is rate-limiting requests.", True, "rate_limited")
    if status is not None and status >= 500:
        return ProviderFailure(f"The provider failed with HTTP {status}.", True, "server")
    if status is not None and status >= 400:
        return ProviderFailure(f"The provider refused the request (HTTP {status}).", False, "request")
    if isinstance(exc, ProviderStreamError):
        return ProviderFailure(f"The provider reported an error: {exc}", True, "server")
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return ProviderFailure(f"The provider at {base_url} did not answer in time.", True, "unreachable")
    if isinstance(exc, httpx.TransportError | ConnectionError):
        return ProviderFailure(f"The provider is unreachable at {base_url}.", True, "unreachable")
    return ProviderFailure(f"The model call failed: {type(exc).__name__}.", False, "unknown")


def _status_of(exc: BaseException) -> int | None:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code
    status = getattr(exc, "status_code", None)  # the SDKs' status errors (openai.APIStatusError...)
    return status if isinstance(status, int) else None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `kind` is `exc` or behind it: an SDK may wrap what the transport raised."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_database_outage(exc: BaseException) -> bool:
    """A lost or refused database connection (the server restarted or killed it), at any depth."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _database_outages()):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _database_outages() -> tuple[type[BaseException], ...]:
    import sqlite3

    import asyncpg
    import psycopg
    import sqlalchemy.exc

    return (
        psycopg.OperationalError,
        psycopg.InterfaceError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.OperatorInterventionError,
        sqlite3.OperationalError,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
    )
