"""The egress guard for the MCP client, which speaks httpx2 (a fork of httpx) rather than httpx.

The same check as `transport.py`, at the same place: each new connection resolves its host
once, is refused unless every address is allowed, and connects to a checked address. Import
this module only where an MCP server is reached (it pulls in httpx2).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable
from typing import Any

import anyio
import certifi
import httpcore2
import httpx2

from app.egress.errors import EgressError, EgressRefused
from app.egress.policy import EgressPolicy
from app.egress.resolver import resolve_checked


class GuardedMcpTransport(httpx2.AsyncHTTPTransport):
    def __init__(self, policy: EgressPolicy) -> None:
        context = _tls_context()
        super().__init__(verify=context, trust_env=False)
        # httpx2 has no parameter for the network backend: the same pool it builds, with ours.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=context, network_backend=_CheckedBackend(policy), max_keepalive_connections=4
        )


def guarded_client_factory(policy: EgressPolicy, statuses: list[int] | None = None) -> Any:
    """An `McpHttpClientFactory`: httpx2 clients whose every connection passes the guard.

    `statuses` collects the HTTP status of every refused request (4xx, 5xx): the MCP client
    turns a 401 into a bare "error response", and the user needs to know it was the credentials.
    """

    async def record(response: httpx2.Response) -> None:
        if statuses is not None and response.status_code >= 400:
            statuses.append(response.status_code)

    def factory(
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
        **_: Any,
    ) -> httpx2.AsyncClient:
        # The MCP transports follow redirects themselves, within the server's origin only.
        return httpx2.AsyncClient(
            headers=headers, timeout=timeout or httpx2.Timeout(30.0, read=300.0), auth=auth,
            transport=GuardedMcpTransport(policy), trust_env=False, follow_redirects=False,
            event_hooks={"response": [record]},
        )  # fmt: skip

    return factory


class _CheckedBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._network = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_checked(host, port, self._policy)
        except TimeoutError as exc:
            raise httpcore2.ConnectTimeout(f"Could not find the address of {host} in time") from exc
        except EgressError as exc:  # EgressRefused included: the message says why
            raise httpcore2.ConnectError(str(exc)) from exc
        failure = httpcore2.ConnectError(f"Could not connect to {host}")
        for ip in addresses:
            try:
                return await self._network.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore2.ConnectError as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise EgressRefused("Refused: Unix sockets cannot be reached")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())
