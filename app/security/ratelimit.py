"""Failed-login limits: counters in Redis or in-process, and the rules that read them.

Three counters per failed login, so that guessing from one address never locks the real
user out from another:

- one address on one account: `NOVA_LOGIN_ATTEMPTS_PER_ACCOUNT_IP`, then that address
  waits for a quiet window before it may try that account again;
- one address on any account: `NOVA_LOGIN_ATTEMPTS_PER_IP`, the same way;
- every address on one account: `NOVA_LOGIN_ATTEMPTS_PER_ACCOUNT`, far higher, and then a
  backoff (1 s, 2 s, 4 s … up to `NOVA_LOGIN_BACKOFF_MAX_SECONDS` after each failure)
  instead of a lock, which slows a distributed guesser without shutting the owner out.

A counter is forgotten `NOVA_LOGIN_WINDOW_SECONDS` after its last failure. With Redis the
counters are shared by every web process; when Redis fails, this process counts on its
own until Redis answers again, so logging in never depends on Redis being up.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

REDIS_TIMEOUT_SECONDS = 2.0
# After Redis fails, logins use in-process counters for this long before trying it again.
REDIS_RETRY_SECONDS = 5.0
MEMORY_SWEEP_EVERY = 10_000


@dataclass(frozen=True)
class Failures:
    count: int = 0
    last: float = 0.0  # time.time() of the latest failure


class LoginLimiter(Protocol):
    async def failures(self, key: str) -> Failures: ...
    async def record_failure(self, key: str) -> None: ...
    async def reset(self, key: str) -> None: ...
    async def close(self) -> None: ...


class MemoryLoginLimiter:
    """Counters in this process: the embedded mode's, and the fallback while Redis is down."""

    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._failures: dict[str, Failures] = {}
        self._recorded = 0

    async def failures(self, key: str) -> Failures:
        found = self._failures.get(key)
        if found is None or self._expired(found, time.time()):
            self._failures.pop(key, None)
            return Failures()
        return found

    async def record_failure(self, key: str) -> None:
        previous = await self.failures(key)
        self._failures[key] = Failures(previous.count + 1, time.time())
        self._recorded += 1
        if self._recorded % MEMORY_SWEEP_EVERY == 0:  # keys nobody asks about again
            now = time.time()
            self._failures = {k: f for k, f in self._failures.items() if not self._expired(f, now)}

    async def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    async def close(self) -> None:
        self._failures.clear()

    def _expired(self, failures: Failures, now: float) -> bool:
        return failures.last + self.window <= now


class RedisLoginLimiter:
    """Counters shared by every web process; each key expires a window after its last failure."""

    def __init__(self, url: str, window_seconds: int) -> None:
        self.redis: Redis = Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        self.window = window_seconds

    async def failures(self, key: str) -> Failures:
        # redis-py types hash reads as "awaitable or list" (sync and async share stubs).
        count, last = await cast(Awaitable[list[bytes | None]], self.redis.hmget(_redis_key(key), ["count", "last"]))
        if count is None:
            return Failures()
        return Failures(int(count), float(last or 0))

    async def record_failure(self, key: str) -> None:
        name = _redis_key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(name, "count", 1)
            pipe.hset(name, "last", repr(time.time()))
            pipe.expire(name, self.window)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self.redis.delete(_redis_key(key))

    async def close(self) -> None:
        await self.redis.aclose()


class FallbackLoginLimiter:
    """The shared counters while Redis answers, this process's own while it does not."""

    def __init__(self, shared: LoginLimiter, local: LoginLimiter) -> None:
        self.shared = shared
        self.local = local
        self._shared_down_until = 0.0
        self._warned = False

    async def failures(self, key: str) -> Failures:
        return await self._call(lambda limiter: limiter.failures(key))

    async def record_failure(self, key: str) -> None:
        await self._call(lambda limiter: limiter.record_failure(key))

    async def reset(self, key: str) -> None:
        await self._call(lambda limiter: limiter.reset(key))

    async def close(self) -> None:
        await self.local.close()
        try:
            await self.shared.close()
        except (RedisError, OSError):
            pass

    async def _call(self, operation: Callable[[LoginLimiter], Awaitable[T]]) -> T:
        if time.monotonic() >= self._shared_down_until:
            try:
                result = await operation(self.shared)
            except (RedisError, OSError) as exc:
                self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                if not self._warned:
                    self._warned = True
                    log.warning("Redis unavailable (%s): login limits are counted in this process", type(exc).__name__)
            else:
                if self._warned:
                    self._warned = False
                    log.warning("Redis is back: login limits are shared again")
                return result
        return await operation(self.local)


@dataclass(frozen=True)
class LoginAttempt:
    """Who is trying: the normalised e-mail and the client's address."""

    email: str
    address: str

    @property
    def account_key(self) -> str:
        # Hashed: Redis keys never hold e-mail addresses, and a huge one stays a short key.
        return "account:" + hashlib.sha256(self.email.encode("utf-8", "replace")).hexdigest()[:32]

    @property
    def address_key(self) -> str:
        return "ip:" + _address_block(self.address)

    @property
    def account_address_key(self) -> str:
        return f"{self.account_key}:{self.address_key}"


class LoginThrottle:
    """The rules: how long an attempt must wait, and what a failure or a success counts."""

    def __init__(self, limiter: LoginLimiter, settings: Settings) -> None:
        self.limiter = limiter
        self.window = settings.login_window_seconds
        self.per_account_address = settings.login_attempts_per_account_ip
        self.per_address = settings.login_attempts_per_ip
        self.per_account = settings.login_attempts_per_account
        self.backoff_max = settings.login_backoff_max_seconds

    async def wait_seconds(self, attempt: LoginAttempt) -> float:
        """0 when the attempt may go ahead, else how long until it may."""
        now = time.time()
        waits = [0.0]
        for key, limit in ((attempt.account_address_key, self.per_account_address),
                           (attempt.address_key, self.per_address)):  # fmt: skip
            failures = await self.limiter.failures(key)
            if failures.count >= limit:
                waits.append(failures.last + self.window - now)
        account = await self.limiter.failures(attempt.account_key)
        if account.count >= self.per_account:
            backoff = min(float(self.backoff_max), 2.0 ** min(account.count - self.per_account, 32))
            waits.append(account.last + backoff - now)
        return max(waits)

    async def failed(self, attempt: LoginAttempt) -> None:
        for key in (attempt.account_address_key, attempt.address_key, attempt.account_key):
            await self.limiter.record_failure(key)

    async def succeeded(self, attempt: LoginAttempt) -> None:
        # The account-wide count stays: the owner logging in must not give a guesser a fresh budget.
        await self.limiter.reset(attempt.account_address_key)


def make_login_limiter(settings: Settings) -> LoginLimiter:
    local = MemoryLoginLimiter(settings.login_window_seconds)
    if settings.redis_url:
        return FallbackLoginLimiter(RedisLoginLimiter(settings.redis_url, settings.login_window_seconds), local)
    return local


def _redis_key(key: str) -> str:
    return f"nova:login:{key}"


def _address_block(address: str) -> str:
    """An IPv6 client is counted by its /64, which one subscriber usually holds whole."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
