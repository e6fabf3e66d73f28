"""The provider circuit breaker's state machine with a fake clock, on both of its stores:
this process's memory (embedded) and Redis (scaled, shared by every process)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from app.circuit.breaker import ProviderBreaker, make_breaker
from app.circuit.store import BreakerStore, MemoryStore, RedisStore
from app.settings import Settings, load_settings

PID = "0b4b5d1e-0000-4000-8000-000000000001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC

    def __call__(self) -> float:
        return self.now


def _settings(failures: int = 3, open_seconds: float = 60, redis_url: str | None = None) -> Settings:
    values = {"NOVA_PROVIDER_BREAKER_FAILURES": str(failures), "NOVA_PROVIDER_BREAKER_OPEN_SECONDS": str(open_seconds)}
    if redis_url:
        values["REDIS_URL"] = redis_url
    return load_settings(_env_file=None, **values)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[BreakerStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_store = RedisStore(Redis.from_url(request.getfixturevalue("redis_url")))
    yield redis_store
    await redis_store.close()


async def _open(breaker: ProviderBreaker, failures: int = 3) -> None:
    for _ in range(failures):
        await breaker.failed(await breaker.admit(PID, "Local"), "server")


async def test_failures_in_a_row_open_it_until_the_period_ends(store: BreakerStore) -> None:
    clock = Clock()
    breaker = ProviderBreaker(store, _settings(), clock)
    await _open(breaker, 2)
    assert (await breaker.admit(PID, "Local")).refusal is None  # two are not enough
    await breaker.failed(await breaker.admit(PID, "Local"), "unreachable")
    refused = await breaker.admit(PID, "Local")
    assert refused.refusal == ("Nova stopped calling Local for 60 s after 3 failures in a row; "
                               "try again at 08:01:00 UTC or pick another model.")  # fmt: skip
    assert not refused.probe
    badge = (await breaker.states([PID, "other"]))[PID]
    assert not badge.probing and badge.until_text == "08:01"
    clock.now += 59.9
    assert (await breaker.admit(PID, "Local")).refusal is not None


async def test_after_the_period_exactly_one_probe_goes_and_its_success_closes_it(store: BreakerStore) -> None:
    clock = Clock()
    breaker = ProviderBreaker(store, _settings(), clock)
    await _open(breaker)
    clock.now += 60
    assert (await breaker.states([PID]))[PID].probing
    probe = await breaker.admit(PID, "Local")
    assert probe.probe and probe.refusal is None
    other = await breaker.admit(PID, "Local")
    assert other.refusal is not None and "testing it" in other.refusal
    await breaker.succeeded(probe)
    assert await breaker.states([PID]) == {}
    assert (await breaker.admit(PID, "Local")).refusal is None
    await _open(breaker, 2)  # the count started over
    assert (await breaker.admit(PID, "Local")).refusal is None


async def test_a_failed_probe_opens_it_again(store: BreakerStore) -> None:
    clock = Clock()
    breaker = ProviderBreaker(store, _settings(), clock)
    await _open(breaker)
    clock.now += 61
    probe = await breaker.admit(PID, "Local")
    await breaker.failed(probe, "rate_limited")
    refused = await breaker.admit(PID, "Local")
    assert refused.refusal is not None and "08:02:01 UTC" in refused.refusal
    clock.now += 60
    assert (await breaker.admit(PID, "Local")).probe


async def test_a_probe_failing_for_another_reason_frees_the_slot(store: BreakerStore) -> None:
    clock = Clock()
    breaker = ProviderBreaker(store, _settings(), clock)
    await _open(breaker)
    clock.now += 60
    await breaker.failed(await breaker.admit(PID, "Local"), "auth")
    assert (await breaker.admit(PID, "Local")).probe  # the next run probes instead


@pytest.mark.parametrize("kind", ["auth", "request", "refused", "database", "unknown"])
async def test_failures_that_say_nothing_of_health_never_open_it(kind: str) -> None:
    breaker = ProviderBreaker(MemoryStore(), _settings(failures=1), Clock())
    await breaker.failed(await breaker.admit(PID, "Local"), kind)
    assert (await breaker.admit(PID, "Local")).refusal is None


async def test_a_success_resets_the_count_and_old_failures_are_forgotten(store: BreakerStore) -> None:
    clock = Clock()
    breaker = ProviderBreaker(store, _settings(), clock)
    await _open(breaker, 2)
    await breaker.succeeded(await breaker.admit(PID, "Local"))
    await _open(breaker, 2)
    clock.now += 301  # past the failure window
    await _open(breaker, 2)
    assert (await breaker.admit(PID, "Local")).refusal is None


async def test_redis_shares_it_between_processes(redis_url: str) -> None:
    clock = Clock()
    one, two = (ProviderBreaker(RedisStore(Redis.from_url(redis_url)), _settings(), clock) for _ in range(2))
    await _open(one)
    assert (await two.admit(PID, "Local")).refusal is not None
    clock.now += 60
    probes = [await one.admit(PID, "Local"), await two.admit(PID, "Local")]
    assert [t.probe for t in probes] == [True, False]
    assert set(await Redis.from_url(redis_url).keys("nova:breaker:*")) == {
        f"nova:breaker:{PID}:{part}".encode() for part in ("failures", "open", "probe")
    }
    await one.close()
    await two.close()


async def test_an_unreachable_redis_lets_every_run_through_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    breaker = make_breaker(_settings(failures=1, redis_url="redis://127.0.0.1:9/0"))
    with caplog.at_level(logging.WARNING, logger="app.circuit.breaker"):
        for _ in range(3):
            ticket = await breaker.admit(PID, "Local")
            assert ticket.refusal is None
            await breaker.failed(ticket, "server")
    assert await breaker.states([PID]) == {}
    assert len([r for r in caplog.records if "Redis failed" in r.message]) == 1
    await breaker.close()


async def test_zero_failures_turns_it_off() -> None:
    breaker = ProviderBreaker(MemoryStore(), _settings(failures=0), Clock())
    for _ in range(10):
        await breaker.failed(await breaker.admit(PID, "Local"), "server")
    assert (await breaker.admit(PID, "Local")).refusal is None
