"""The one way Nova's tools reach the network: every hop is checked, then pinned to its address.

A name is resolved once and the connection goes to the checked address, so a DNS answer that
changes between the check and the connect (rebinding) cannot steer a request inside.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import json as jsonlib
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import certifi
import httpx

from app.egress.errors import EgressError, EgressRefused
from app.egress.policy import EgressPolicy, IPAddress, parse_ip_literal
from app.egress.resolver import resolve_checked

__all__ = ["EgressError", "EgressRefused", "EgressResponse", "fetch"]

log = logging.getLogger(__name__)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BECOMES_GET = frozenset({301, 302, 303})
# Headers that can follow a redirect to another origin; anything else may be a credential
# (Authorization, Cookie, X-Api-Key, ...) meant only for the first site.
_CROSS_ORIGIN_SAFE = frozenset({"accept", "accept-encoding", "accept-language", "user-agent", "content-type"})


@dataclass(frozen=True)
class EgressResponse:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool

    def text(self) -> str:
        return self.body.decode(self._charset(), errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def _charset(self) -> str:
        _, _, params = self.headers.get("content-type", "").partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "charset":
                try:
                    return codecs.lookup(value.strip().strip("\"'")).name
                except LookupError:
                    break
        return "utf-8"


async def fetch(
    policy: EgressPolicy,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str | int | float] | None = None,
    content: bytes | str | None = None,
    max_bytes: int = 2_000_000,
    timeout: float = 15.0,  # noqa: ASYNC109 - one budget for DNS, every hop and the body
    max_redirects: int = 5,
) -> EgressResponse:
    """Send one request for a user; EgressRefused before any connection to a forbidden place."""
    target = _parse_url(url)
    if params:
        target = target.copy_merge_params(params)
    method = method.upper()
    request_headers = httpx.Headers(headers)
    client = httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        verify=_tls_context(),
        timeout=timeout,
        # A pooled TLS connection was verified for one name; never reuse it for another name
        # that happens to resolve to the same address.
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    try:
        async with client, asyncio.timeout(timeout):
            redirects = 0
            while True:
                response = await _open(client, policy, method, target, request_headers, content)
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or location is None:
                    return await _read(response, target, max_bytes)
                await response.aclose()
                if redirects >= max_redirects:
                    raise EgressError(f"Too many redirects (more than {max_redirects})")
                redirects += 1
                next_target = _parse_url(urljoin(str(target), location))
                if response.status_code in _BECOMES_GET and method != "HEAD":
                    method, content = "GET", None
                    for name in ("content-type", "content-length", "transfer-encoding"):
                        request_headers.pop(name, None)
                if _origin(next_target) != _origin(target):
                    request_headers = httpx.Headers(
                        {k: v for k, v in request_headers.items() if k in _CROSS_ORIGIN_SAFE}
                    )
                target = next_target
    except EgressRefused as exc:
        log.info("Egress refused: %s", exc)
        raise
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise EgressError(f"{target.host} did not answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise EgressError(f"Request to {target.host} failed: {exc}") from exc


def _parse_url(url: str) -> httpx.URL:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise EgressRefused("Refused: not a valid URL") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise EgressRefused("Refused: only http and https URLs can be fetched")
    if "@" in parts.netloc:
        raise EgressRefused("Refused: URLs with a user name or password cannot be fetched")
    if not host:
        raise EgressRefused("Refused: the URL has no host")
    literal = parse_ip_literal(host)
    if literal is not None and literal.version == 4:
        # httpx rejects legacy spellings like 0177.0.0.1 that the OS resolver would accept;
        # spelling the address canonically makes what we check exactly what we connect to.
        netloc = str(literal) if port is None else f"{literal}:{port}"
        url = urlunsplit(parts._replace(netloc=netloc))
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise EgressRefused("Refused: not a valid URL") from exc


async def _resolve(target: httpx.URL, policy: EgressPolicy) -> list[IPAddress]:
    return await resolve_checked(target.raw_host.decode("ascii"), target.port, policy)


async def _open(
    client: httpx.AsyncClient,
    policy: EgressPolicy,
    method: str,
    target: httpx.URL,
    headers: httpx.Headers,
    content: bytes | str | None,
) -> httpx.Response:
    host = target.raw_host.decode("ascii")
    extensions: dict[str, Any] = {}
    if parse_ip_literal(host) is None:
        # httpcore passes sni_hostname to ssl's wrap_bio(server_hostname=...), which both sends
        # it as SNI and, with check_hostname on, verifies the certificate against it; without
        # it the certificate would be checked against the IP literal we connect to.
        extensions["sni_hostname"] = host.rstrip(".")
    hop_headers = httpx.Headers(headers)
    hop_headers["Host"] = target.netloc.decode("ascii")
    # The jar would send cookies from one host to another that shares its address.
    client.cookies.clear()
    failure: httpx.ConnectError | None = None
    for ip in await _resolve(target, policy):
        request = client.build_request(
            method,
            target.copy_with(host=str(ip)),
            headers=hop_headers,
            content=content,
            extensions=extensions,
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            failure = exc
    raise EgressError(f"Could not connect to {host}: {failure}")


async def _read(response: httpx.Response, target: httpx.URL, max_bytes: int) -> EgressResponse:
    body = bytearray()
    truncated = False
    try:
        async for chunk in response.aiter_bytes():
            room = max_bytes - len(body)
            if len(chunk) > room:
                body += chunk[:room]
                truncated = True
                break
            body += chunk
    finally:
        await response.aclose()
    return EgressResponse(
        url=str(target),
        status=response.status_code,
        headers={name.lower(): value for name, value in response.headers.items()},
        body=bytes(body),
        truncated=truncated,
    )


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return url.scheme, url.raw_host, url.port


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle for every call would cost more than the request."""
    return ssl.create_default_context(cafile=certifi.where())
