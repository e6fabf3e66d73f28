"""A host's addresses, every one of them checked: one bad answer refuses the whole name."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import Any

from app.egress.errors import EgressError
from app.egress.policy import EgressPolicy, IPAddress, check_address, check_host, parse_ip_literal

AddressInfo = tuple[Any, ...]


async def resolve_checked(host: str, port: int | None, policy: EgressPolicy) -> list[IPAddress]:
    """The addresses to connect to; EgressRefused if any is forbidden, EgressError if none."""
    literal = _checked_literal(host, policy)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressError(f"Could not find the address of {host}") from exc
    return _checked_answers(host, infos, policy)


def resolve_checked_sync(host: str, port: int | None, policy: EgressPolicy) -> list[IPAddress]:
    """resolve_checked for synchronous clients (it blocks while the name resolves)."""
    literal = _checked_literal(host, policy)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressError(f"Could not find the address of {host}") from exc
    return _checked_answers(host, infos, policy)


def _checked_literal(host: str, policy: EgressPolicy) -> IPAddress | None:
    literal = parse_ip_literal(host)
    if literal is not None:
        check_address(literal, host, policy)
        return literal
    check_host(host, policy)
    return None


def _checked_answers(host: str, infos: Sequence[AddressInfo], policy: EgressPolicy) -> list[IPAddress]:
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = parse_ip_literal(str(sockaddr[0]))
        if ip is not None and ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise EgressError(f"Could not find the address of {host}")
    for ip in addresses:
        check_address(ip, host, policy)
    return addresses
