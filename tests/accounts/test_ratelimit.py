"""Both limiter backends behave the same; the Redis one is shared between processes."""

from __future__ import annotations

import pytest

from app.security.ratelimit import LoginLimiter, MemoryLoginLimiter, RedisLoginLimiter


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> LoginLimiter:
    if request.param == "memory":
        return MemoryLoginLimiter(window_seconds=60)
    return RedisLoginLimiter(request.getfixturevalue("redis_url"), window_seconds=60)


async def test_blocks_after_the_limit_and_resets(limiter: LoginLimiter) -> None:
    for _ in range(3):
        assert not await limiter.is_blocked("account:ada", 3)
        await limiter.record_failure("account:ada")
    assert await limiter.is_blocked("account:ada", 3)
    assert not await limiter.is_blocked("account:bob", 3)
    await limiter.reset("account:ada")
    assert not await limiter.is_blocked("account:ada", 3)
    await limiter.close()


async def test_redis_limit_is_shared_between_instances(redis_url: str) -> None:
    web_one = RedisLoginLimiter(redis_url, window_seconds=60)
    web_two = RedisLoginLimiter(redis_url, window_seconds=60)
    await web_one.record_failure("ip:10.0.0.1")
    await web_one.record_failure("ip:10.0.0.1")
    assert await web_two.is_blocked("ip:10.0.0.1", 2)
    await web_one.close()
    await web_two.close()


async def test_memory_window_forgets_old_failures() -> None:
    limiter = MemoryLoginLimiter(window_seconds=0)
    await limiter.record_failure("account:ada")
    assert not await limiter.is_blocked("account:ada", 1)
