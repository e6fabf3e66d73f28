"""Which addresses a tool may reach: the public internet, plus what the admin allowlisted."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.egress.errors import EgressRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# inet_aton accepts junk after whitespace ("1.2.3.4 x"); only pure number forms are literals.
_LEGACY_IPV4 = re.compile(r"^[0-9a-fx.]+$", re.IGNORECASE)

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# Checked before the generic properties so the message names the range a person would search for.
_NAMED_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(cidr), name)
    for cidr, name in (
        ("169.254.169.254/32", "the cloud metadata address"),
        ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("192.0.2.0/24", "a documentation address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a unique local (ULA) address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
    )
)


@dataclass(frozen=True)
class EgressPolicy:
    """`allow` holds hostnames and CIDRs (or single IPs) that may be reached although private."""

    allow: tuple[str, ...] = ()
    _hosts: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in self.allow:
            entry = raw.strip()
            if not entry:
                continue
            network = _as_network(entry)
            if network is None:
                hosts.add(normalise_host(entry))
            else:
                networks.append(network)
        object.__setattr__(self, "_hosts", frozenset(hosts))
        object.__setattr__(self, "_networks", tuple(networks))

    @classmethod
    def from_settings(cls, allowlist: Sequence[str], service_urls: Sequence[str | None]) -> EgressPolicy:
        """Services the admin configured (SearXNG, Judge0, ...) are trusted by their hostname."""
        service_hosts = []
        for url in service_urls:
            host = urlsplit(url).hostname if url else None
            if host:
                service_hosts.append(host)
        return cls(allow=(*allowlist, *service_hosts))

    def allows_host(self, host: str) -> bool:
        return normalise_host(host) in self._hosts

    def allows(self, ip: IPAddress, host: str) -> bool:
        if self.allows_host(host):
            return True
        embedded = embedded_ipv4(ip)
        return any(
            candidate.version == network.version and candidate in network
            for network in self._networks
            for candidate in (ip, embedded)
            if candidate is not None
        )


def normalise_host(host: str) -> str:
    """Lower-case, no trailing dot, IDNA-encoded: how two spellings of one name compare equal."""
    name = host.strip().strip("[]").rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host literally spells, including legacy IPv4 (`2130706433`, `0x7f.1`)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not _LEGACY_IPV4.match(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a v6 address tunnels to; a connection to it reaches that v4 host."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # :: and ::1 are the v6 unspecified and loopback addresses, not v4-compatible forms.
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_host(host: str, policy: EgressPolicy) -> None:
    """Refuse names that mean this machine whatever DNS says (RFC 6761), before resolving them."""
    name = normalise_host(host)
    if (name == "localhost" or name.endswith(".localhost")) and not policy.allows_host(host):
        raise EgressRefused(f"Refused: {host} is a loopback name")


def check_address(ip: IPAddress, host: str, policy: EgressPolicy) -> None:
    """Raise EgressRefused unless `ip` is on the public internet or allowlisted."""
    if policy.allows(ip, host):
        return
    embedded = embedded_ipv4(ip)
    judged = embedded or ip
    reason = _refusal_reason(judged)
    if reason is None:
        return
    if embedded is not None:
        raise EgressRefused(f"Refused: {ip} leads to {embedded}, {reason}")
    raise EgressRefused(f"Refused: {ip} is {reason}")


def _refusal_reason(ip: IPAddress) -> str | None:
    for network, name in _NAMED_RANGES:
        if ip.version == network.version and ip in network:
            return name
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    # Multicast ranges count as "global" to the ipaddress module, but never name one web server.
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if not ip.is_global:
        return "not a public internet address"
    return None


def _as_network(entry: str) -> IPNetwork | None:
    if "/" in entry:
        try:
            return ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ValueError(f"egress allowlist entry {entry!r} is not a valid CIDR") from exc
    try:
        return ipaddress.ip_network(entry.strip("[]"))
    except ValueError:
        return None
