"""httpx transports for SDKs that Nova points at a user's own server (the LLM providers).

The check sits where a socket is opened: each new connection resolves its host once, is
refused unless every address is allowed, and connects to a checked address. A redirect to
another origin needs a new connection, so it is checked the same way, and a DNS answer that
changes later cannot move an open connection. TLS still verifies the certificate against the
host name, and response bodies stream through untouched.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import anyio
import certifi
import httpcore
import httpx

from app.egress.errors import EgressError, EgressRefused
from app.egress.policy import EgressPolicy
from app.egress.resolver import resolve_checked, resolve_checked_sync

# httpx's own defaults, which it drops when a transport is passed in.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
MAX_SHARED_POOLS = 128


class GuardedAsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: EgressPolicy, *, verify: ssl.SSLContext | None = None) -> None:
        context = verify or _tls_context()
        super().__init__(verify=context, trust_env=False, limits=LIMITS)
        # httpx has no parameter for the network backend: the same pool it builds, with ours.
        backend = _CheckedAsyncBackend(policy)
        self._pool = httpcore.AsyncConnectionPool(network_backend=backend, **_pool_options(context))


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: EgressPolicy, *, verify: ssl.SSLContext | None = None) -> None:
        context = verify or _tls_context()
        super().__init__(verify=context, trust_env=False, limits=LIMITS)
        self._pool = httpcore.ConnectionPool(network_backend=_CheckedBackend(policy), **_pool_options(context))


_shared: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, OrderedDict[tuple[EgressPolicy | None, str], httpx.AsyncHTTPTransport]
] = weakref.WeakKeyDictionary()


def shared_async_transport(policy: EgressPolicy | None, key: str) -> httpx.AsyncBaseTransport:
    """One pool per policy and `key` (a provider's URL), so consecutive runs reuse connections.

    No policy: a system provider, which an admin set up, reached without the guard. Pools
    belong to the event loop that opened their connections; outside a loop the caller gets
    a pool of its own.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return _new_pool(policy)
    pools = _shared.setdefault(loop, OrderedDict())
    transport = pools.pop((policy, key), None) or _new_pool(policy)
    pools[(policy, key)] = transport
    while len(pools) > MAX_SHARED_POOLS:
        # Clients still streaming keep their transport alive; idle sockets close when collected.
        pools.popitem(last=False)
    return _Borrowed(transport)


def _new_pool(policy: EgressPolicy | None) -> httpx.AsyncHTTPTransport:
    return GuardedAsyncTransport(policy) if policy is not None else httpx.AsyncHTTPTransport(limits=LIMITS)


class _Borrowed(httpx.AsyncBaseTransport):
    """A shared pool as one client sees it: closing that client leaves the pool to the others."""

    def __init__(self, pool: httpx.AsyncHTTPTransport) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool.handle_async_request(request)

    async def aclose(self) -> None:
        pass


class _CheckedAsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_checked(host, port, self._policy)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"Could not find the address of {host} in time") from exc
        except EgressError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        failure = httpcore.ConnectError(f"Could not connect to {host}")
        for ip in addresses:
            try:
                return await self._network.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("Refused: Unix sockets cannot be reached")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class _CheckedBackend(httpcore.NetworkBackend):
    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._network = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_checked_sync(host, port, self._policy)
        except EgressError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        failure = httpcore.ConnectError(f"Could not connect to {host}")
        for ip in addresses:
            try:
                return self._network.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise EgressRefused("Refused: Unix sockets cannot be reached")

    def sleep(self, seconds: float) -> None:
        self._network.sleep(seconds)


def _pool_options(context: ssl.SSLContext) -> dict[str, Any]:
    return {
        "ssl_context": context,
        "max_connections": LIMITS.max_connections,
        "max_keepalive_connections": LIMITS.max_keepalive_connections,
        "keepalive_expiry": LIMITS.keepalive_expiry,
    }


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle for every pool would cost more than the request."""
    return ssl.create_default_context(cafile=certifi.where())
