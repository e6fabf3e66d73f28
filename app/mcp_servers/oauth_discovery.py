"""Where an MCP server's sign-in happens: its protected-resource metadata (RFC 9728), then its
authorization server's metadata (RFC 8414, or OpenID discovery).

Every URL here came from a server a user named, so every one is checked before use: https, or
http only for a host in NOVA_EGRESS_ALLOWLIST; and every request goes through the egress guard,
which refuses private and loopback addresses unless allow-listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.egress import EgressError, EgressPolicy, EgressRefused, fetch
from app.egress.policy import parse_ip_literal
from app.egress.resolver import resolve_checked

TIMEOUT = 15.0
_RESOURCE_METADATA = re.compile(r'resource_metadata="([^"]+)"')
_SCOPE = re.compile(r'scope="([^"]*)"')


class OAuthFailure(Exception):
    """Signing in to the server cannot go on; the text says why, for the user."""


@dataclass(frozen=True)
class Discovery:
    resource: str  # what the tokens are for (RFC 8707): the MCP server's URL
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str | None
    auth_methods: tuple[str, ...]  # token_endpoint_auth_methods_supported
    scopes: str | None  # what the server asks for, when it says


def check_url(url: str, policy: EgressPolicy, what: str) -> str:
    """`url`, if Nova may use it: https, or http to an allow-listed host; never with credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise OAuthFailure(f"The {what} is not a valid URL.") from None
    if not host or "@" in parts.netloc or parts.fragment or parts.scheme not in ("https", "http"):
        raise OAuthFailure(f"The {what} ({url[:200]}) is not a usable https URL.")
    if parts.scheme == "http" and not _allow_listed(host, policy):
        raise OAuthFailure(f"Refused: the {what} ({url[:200]}) is not https, and {host} is not allow-listed.")
    return url


async def check_reachable(url: str, policy: EgressPolicy, what: str) -> None:
    """The egress guard's verdict on an address Nova sends the browser to, not one it fetches."""
    parts = urlsplit(check_url(url, policy, what))
    try:
        await resolve_checked(parts.hostname or "", parts.port, policy)
    except EgressRefused as exc:
        raise OAuthFailure(f"The {what} was refused. {exc}.") from None
    except EgressError as exc:
        raise OAuthFailure(f"The {what} cannot be reached: {exc}.") from None


async def request_json(policy: EgressPolicy, method: str, url: str, what: str,
                       **kwargs: Any) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """(status, JSON object) of one guarded request; OAuthFailure if there is no JSON object."""
    try:
        response = await fetch(policy, method, check_url(url, policy, what), timeout=TIMEOUT, max_bytes=200_000,
                               max_redirects=0, **kwargs)  # fmt: skip
        body = response.json()
    except EgressRefused as exc:
        raise OAuthFailure(f"The {what} was refused. {exc}.") from None
    except EgressError as exc:
        raise OAuthFailure(f"The {what} could not be reached: {exc}.") from None
    except ValueError:
        raise OAuthFailure(f"The {what} did not answer with JSON (HTTP {response.status}).") from None
    if not isinstance(body, dict):
        raise OAuthFailure(f"The {what} did not answer with a JSON object.")
    return response.status, body


async def discover(policy: EgressPolicy, server_url: str) -> Discovery:
    check_url(server_url, policy, "MCP server's address")
    challenge = await _challenge(policy, server_url)
    found = _RESOURCE_METADATA.search(challenge)
    scope = _SCOPE.search(challenge)
    resource_meta = await _first_document(policy, [found.group(1)] if found else _well_known(
        server_url, "oauth-protected-resource"), "protected-resource metadata")  # fmt: skip
    resource = str(resource_meta.get("resource") or server_url)
    if _origin(resource) != _origin(server_url):
        raise OAuthFailure("The protected-resource metadata names another server as the resource.")
    servers = resource_meta.get("authorization_servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
        raise OAuthFailure("The server's protected-resource metadata names no authorization server.")
    issuer = check_url(servers[0], policy, "authorization server")
    meta = await _first_document(policy, [*_well_known(issuer, "oauth-authorization-server"),
                                          *_well_known(issuer, "openid-configuration"),
                                          issuer.rstrip("/") + "/.well-known/openid-configuration"],
                                 "authorization server metadata")  # fmt: skip
    if meta.get("issuer") not in (issuer, issuer.rstrip("/")):
        raise OAuthFailure("The authorization server's metadata names another issuer.")
    if "S256" not in (meta.get("code_challenge_methods_supported") or []):
        raise OAuthFailure("The authorization server does not offer PKCE (S256), which OAuth 2.1 requires.")
    for key in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(meta.get(key), str):
            raise OAuthFailure(f"The authorization server's metadata has no {key}.")
    registration = meta.get("registration_endpoint")
    scopes = scope.group(1) if scope else " ".join(str(s) for s in resource_meta.get("scopes_supported") or [])
    return Discovery(
        resource=resource, issuer=issuer,
        authorization_endpoint=check_url(meta["authorization_endpoint"], policy, "authorization endpoint"),
        token_endpoint=check_url(meta["token_endpoint"], policy, "token endpoint"),
        registration_endpoint=check_url(registration, policy, "registration endpoint") if registration else None,
        auth_methods=tuple(meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]),
        scopes=scopes or None,
    )  # fmt: skip


async def _challenge(policy: EgressPolicy, server_url: str) -> str:
    """The server's WWW-Authenticate answer to a request without a token ("" if it gave none)."""
    try:
        response = await fetch(policy, "GET", server_url, headers={"Accept": "application/json, text/event-stream"},
                               timeout=TIMEOUT, max_bytes=10_000, max_redirects=0)  # fmt: skip
    except EgressRefused as exc:
        raise OAuthFailure(f"The MCP server's address was refused. {exc}.") from None
    except EgressError as exc:
        raise OAuthFailure(f"The MCP server could not be reached: {exc}.") from None
    return response.headers.get("www-authenticate", "") if response.status == 401 else ""


async def _first_document(policy: EgressPolicy, urls: list[str], what: str) -> dict[str, Any]:
    for url in dict.fromkeys(urls):
        status, body = await _maybe_json(policy, url, what)
        if status == 200 and body:
            return body
    raise OAuthFailure(f"Nova found no {what} (tried {', '.join(dict.fromkeys(urls))}).")


async def _maybe_json(policy: EgressPolicy, url: str, what: str) -> tuple[int, dict[str, Any] | None]:
    try:
        return await request_json(policy, "GET", url, what, headers={"Accept": "application/json"})
    except OAuthFailure as exc:
        if "refused" in str(exc).lower():
            raise
        return 0, None  # a 404 page or no JSON: try the next place


def _well_known(url: str, name: str) -> list[str]:
    """RFC 8414/9728: the well-known name goes between the host and the path; then at the root."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    root = urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{name}", "", ""))
    return [urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{name}{path}", "", "")), root]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _allow_listed(host: str, policy: EgressPolicy) -> bool:
    literal = parse_ip_literal(host)
    return policy.allows(literal, host) if literal is not None else policy.allows_host(host)
