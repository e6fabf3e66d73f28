"""Both limiter backends count alike; Redis is shared, and a Redis outage never breaks login."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.security.ratelimit import (
    FallbackLoginLimiter,
    LoginAttempt,
    LoginLimiter,
    LoginThrottle,
    MemoryLoginLimiter,
    RedisLoginLimiter,
)
from tests.fixtures.nova import PASSWORD, nova_settings, open_nova, submit
from tests.fixtures.redis import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> LoginLimiter:
    if request.param == "memory":
        return MemoryLoginLimiter(window_seconds=60)
    return RedisLoginLimiter(request.getfixturevalue("redis_url"), window_seconds=60)


async def test_counts_failures_per_key_and_resets(limiter: LoginLimiter) -> None:
    for _ in range(3):
        await limiter.record_failure("account:ada")
    counted = await limiter.failures("account:ada")
    assert counted.count == 3 and counted.last > 0
    assert (await limiter.failures("account:bob")).count == 0
    await limiter.reset("account:ada")
    assert (await limiter.failures("account:ada")).count == 0
    await limiter.close()


async def test_redis_counts_are_shared_between_instances(redis_url: str) -> None:
    web_one = RedisLoginLimiter(redis_url, window_seconds=60)
    web_two = RedisLoginLimiter(redis_url, window_seconds=60)
    await web_one.record_failure("ip:10.0.0.1")
    await web_one.record_failure("ip:10.0.0.1")
    assert (await web_two.failures("ip:10.0.0.1")).count == 2
    await web_one.close()
    await web_two.close()


async def test_memory_window_forgets_old_failures() -> None:
    limiter = MemoryLoginLimiter(window_seconds=0)
    await limiter.record_failure("account:ada")
    assert (await limiter.failures("account:ada")).count == 0


async def test_throttle_limits_the_address_and_backs_off_the_account(tmp_path: Path) -> None:
    settings = nova_settings(
        "sqlite+aiosqlite://",
        tmp_path,
        NOVA_LOGIN_ATTEMPTS_PER_ACCOUNT_IP="2",
        NOVA_LOGIN_ATTEMPTS_PER_ACCOUNT="4",
        NOVA_LOGIN_BACKOFF_MAX_SECONDS="5",
        NOVA_LOGIN_WINDOW_SECONDS="600",
    )
    throttle = LoginThrottle(MemoryLoginLimiter(window_seconds=600), settings)
    guesser, owner = LoginAttempt("ada@example.com", "10.0.0.1"), LoginAttempt("ada@example.com", "10.0.0.2")
    for _ in range(2):
        assert await throttle.wait_seconds(guesser) == 0
        await throttle.failed(guesser)
    assert 599 < await throttle.wait_seconds(guesser) <= 600
    assert await throttle.wait_seconds(owner) == 0
    await throttle.failed(owner)
    await throttle.failed(LoginAttempt("ada@example.com", "10.0.0.3"))  # the fourth failure on the account
    assert 0 < await throttle.wait_seconds(owner) <= 1
    for address in range(4, 10):
        await throttle.failed(LoginAttempt("ada@example.com", f"10.0.0.{address}"))
    assert 4 < await throttle.wait_seconds(owner) <= 5  # doubling, capped: never a lock
    assert await throttle.wait_seconds(LoginAttempt("bob@example.com", "10.0.0.2")) == 0


async def test_ipv6_clients_are_counted_by_their_64(tmp_path: Path) -> None:
    settings = nova_settings("sqlite+aiosqlite://", tmp_path, NOVA_LOGIN_ATTEMPTS_PER_IP="2")
    throttle = LoginThrottle(MemoryLoginLimiter(window_seconds=600), settings)
    await throttle.failed(LoginAttempt("a@example.com", "2001:db8:1:2::1"))
    await throttle.failed(LoginAttempt("b@example.com", "2001:db8:1:2:ffff::9"))
    assert await throttle.wait_seconds(LoginAttempt("c@example.com", "2001:db8:1:2::77")) > 0
    assert await throttle.wait_seconds(LoginAttempt("c@example.com", "2001:db8:1:3::1")) == 0


async def test_fallback_counts_in_process_while_redis_is_down(
    redis_url: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = FallbackLoginLimiter(RedisLoginLimiter(redis_url, 60), MemoryLoginLimiter(60))
    await limiter.record_failure("ip:10.0.0.1")
    assert (await limiter.failures("ip:10.0.0.1")).count == 1  # from Redis
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="app.security.ratelimit"):
        for _ in range(3):
            await limiter.record_failure("ip:10.0.0.1")
        assert (await limiter.failures("ip:10.0.0.1")).count == 3  # this process's own count
    assert [r.getMessage() for r in caplog.records].count(
        "Redis unavailable (ConnectionError): login limits are counted in this process"
    ) == 1
    await limiter.close()


@pytest.mark.both_databases
async def test_login_works_with_redis_stopped(
    database_url: str, tmp_path: Path, redis_url: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_nova(nova_settings(database_url, tmp_path, REDIS_URL=redis_url)) as nova:
        await nova.create_user("ada@example.com")
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="app.security.ratelimit"):
            async with nova.client("203.0.113.7") as guesser:
                wrong = [
                    (await submit(guesser, "/login", {"email": "ada@example.com", "password": "nope"})).status_code
                    for _ in range(nova.ctx.settings.login_attempts_per_account_ip)
                ]
                blocked = await submit(guesser, "/login", {"email": "ada@example.com", "password": PASSWORD})
            async with nova.client() as owner:
                login = await submit(owner, "/login", {"email": "ada@example.com", "password": PASSWORD})
                threads = await owner.get("/threads")
    assert wrong == [400] * nova.ctx.settings.login_attempts_per_account_ip
    assert blocked.status_code == 429  # still limited, by this process
    assert login.status_code == 303 and threads.status_code == 200
    outage_warnings = [r for r in caplog.records if r.getMessage().startswith("Redis unavailable")]
    assert len(outage_warnings) == 1  # once for the outage, not once per request
