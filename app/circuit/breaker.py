"""A circuit breaker per provider: after repeated failures that say the provider is unwell,
runs fail at once with a sentence instead of waiting through retries, until one probe run
has found it well again.

The caller reports one outcome per run (its final failure, after retries, or its first answer).
closed → (N health failures within FAILURE_WINDOW_SECONDS) → open for `open_seconds`
→ half-open: the first run to ask is the probe, the others are still refused
→ the probe's success closes it (any success resets the count); its failure re-opens it.

State lives in Redis when scaled (every web process and worker sees the same breaker; each
change is one atomic command or script) and in this process when embedded. When Redis
fails the breaker lets every run through: it exists to spare waiting, never to block runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.circuit.store import BreakerStore, MemoryStore, RedisStore, State
from app.metrics import observe as metrics
from app.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Failures of these kinds are about the provider's health; a rejected key, a bad request, an
# address the egress policy refuses or Nova's own database are not, and never open it.
HEALTH_KINDS = frozenset({"unreachable", "server", "rate_limited"})
FAILURE_WINDOW_SECONDS = 300.0  # failures older than this (with no success since) are forgotten
PROBE_SECONDS = 60.0  # a probe that never reports (its worker died) frees the slot after this
REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Ticket:
    """What `admit` answered for one provider call."""

    provider_id: str
    refusal: str | None = None  # the sentence the run fails with, when refused
    probe: bool = False


class ProviderBreaker:
    def __init__(self, store: BreakerStore, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.store, self.clock = store, clock
        self.failures = settings.provider_breaker_failures
        self.open_seconds = settings.provider_breaker_open_seconds
        self._redis_failing = False

    async def admit(self, provider_id: str, provider_name: str = "") -> Ticket:
        if not self.failures or not provider_id:
            return Ticket(provider_id)
        answer = await self._ask(lambda: self.store.admit(provider_id, self.clock(), PROBE_SECONDS))
        if answer is None or answer.state == State.CLOSED:
            return Ticket(provider_id)
        if answer.state == State.PROBE:
            log.info("provider %s: letting one run through as a probe", provider_id)
            return Ticket(provider_id, probe=True)
        name = provider_name or "this provider"
        if answer.state == State.OPEN:
            until = time.strftime("%H:%M:%S", time.gmtime(answer.open_until))
            return Ticket(provider_id, refusal=(
                f"Nova stopped calling {name} for {self.open_seconds:g} s after {self.failures} failures in a row; "
                f"try again at {until} UTC or pick another model."))  # fmt: skip
        return Ticket(provider_id, refusal=(
            f"Nova paused calls to {name} after {self.failures} failures in a row and is testing it "
            "with another run now; try again in a minute or pick another model."))  # fmt: skip

    async def succeeded(self, ticket: Ticket) -> None:
        if not self.failures or not ticket.provider_id:
            return
        if await self._ask(lambda: self.store.reset(ticket.provider_id)):
            log.info("provider %s answered again: breaker closed", ticket.provider_id)
            metrics.provider_circuit(ticket.provider_id, False)

    async def failed(self, ticket: Ticket, kind: str) -> None:
        if not self.failures or not ticket.provider_id:
            return
        now, pid = self.clock(), ticket.provider_id
        if kind not in HEALTH_KINDS:
            if ticket.probe:  # says nothing about health: the next run probes instead
                await self._ask(lambda: self.store.release_probe(pid))
            return
        if ticket.probe:
            opened = await self._ask(lambda: self.store.reopen(pid, now + self.open_seconds))
        else:
            opened = await self._ask(lambda: self.store.count_failure(
                pid, now, self.failures, self.open_seconds, FAILURE_WINDOW_SECONDS))  # fmt: skip
        if opened:
            log.warning("provider %s failed %s times in a row: paused for %g s", pid, self.failures, self.open_seconds)
            metrics.provider_circuit(pid, True)

    async def states(self, provider_ids: Iterable[str]) -> dict[str, Badge]:
        """The providers whose breaker is not closed, for the providers page."""
        ids = list(provider_ids)
        if not self.failures or not ids:
            return {}
        found = await self._ask(lambda: self.store.open_until(ids))
        now = self.clock()
        return {pid: Badge(until, probing=until <= now) for pid, until in (found or {}).items()}

    async def _ask(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """The store's answer; None (let everything through) while Redis fails, logged once per outage."""
        try:
            result = await call()
        except (RedisError, OSError) as exc:
            if not self._redis_failing:
                log.warning("provider circuit breakers let every run through: Redis failed (%s)", type(exc).__name__)
            self._redis_failing = True
            return None
        self._redis_failing = False
        return result

    async def close(self) -> None:
        await self.store.close()


@dataclass(frozen=True)
class Badge:
    open_until: float  # epoch seconds
    probing: bool  # the open period is over: the next run (or one running now) is the probe

    @property
    def until_text(self) -> str:
        return time.strftime("%H:%M", time.gmtime(self.open_until))


def make_breaker(settings: Settings) -> ProviderBreaker:
    if settings.redis_url is None:
        return ProviderBreaker(MemoryStore(), settings)
    redis: Redis = Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_connect_timeout=REDIS_TIMEOUT_SECONDS)  # fmt: skip
    return ProviderBreaker(RedisStore(redis), settings)
