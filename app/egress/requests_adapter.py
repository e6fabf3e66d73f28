"""The egress guard for libraries that speak HTTP through `requests` (caldav).

Checking a URL and then letting the library connect by name leaves a gap: the name can
resolve to an allowed address for the check and to a private one for the connection (DNS
rebinding). Here the check happens where the socket is opened: every new connection
(first request, every redirect hop, every host a server points to) resolves the name once,
checks every answer, and connects to a checked address. TLS still verifies the name.
"""

from __future__ import annotations

import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import connection as u3_connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as u3_util

from app.egress.policy import EgressPolicy
from app.egress.resolver import resolve_checked_sync


def guarded_session(policy: EgressPolicy) -> requests.Session:
    """A requests session whose every connection passes `policy` (EgressRefused if not)."""
    session = requests.Session()
    # Like the guard's httpx clients: no proxies or .netrc from the environment.
    session.trust_env = False
    adapter = _GuardedAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http, https = _connection_classes(self._policy)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


def _connection_classes(policy: EgressPolicy) -> tuple[type[Any], type[Any]]:
    def new_conn(self: u3_connection.HTTPConnection) -> socket.socket:
        addresses = resolve_checked_sync(self.host.strip("[]"), self.port, policy)
        failure: OSError = OSError(f"Could not connect to {self.host}")
        for ip in addresses:
            try:
                return u3_util.create_connection(
                    (str(ip), self.port), self.timeout,
                    source_address=self.source_address, socket_options=self.socket_options,
                )  # fmt: skip
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
            except OSError as exc:
                failure = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}") from failure

    http = type("GuardedHTTPConnection", (u3_connection.HTTPConnection,), {"_new_conn": new_conn})
    https = type("GuardedHTTPSConnection", (u3_connection.HTTPSConnection,), {"_new_conn": new_conn})
    return http, https
