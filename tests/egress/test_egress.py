"""The egress guard against real loopback listeners: refused requests never reach them."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.egress import (
    EgressError,
    EgressPolicy,
    EgressRefused,
    EgressResponse,
    check_address,
    fetch,
)
from app.egress import client as egress_client
from app.egress.transport import GuardedAsyncTransport, shared_async_transport
from tests.fixtures.llm_server import ScriptedLLM

NOTHING_ALLOWED = EgressPolicy()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]
Responder = Callable[[Received], Awaitable[Reply]]


async def answer_ok(request: Received) -> Reply:
    return 200, {"Content-Type": "text/plain; charset=utf-8"}, b"hello"


@dataclass
class Listener:
    """A tiny HTTP/1.1 server that records every request it receives."""

    host: str
    respond: Responder = answer_ok
    tls: ssl.SSLContext | None = None
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[Any]] = field(default_factory=set)

    def url(self, path: str = "/", host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{name}:{self.port}{path}"

    async def start(self) -> Listener:
        self._server = await asyncio.start_server(self._handle, self.host, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            received = Received(method, path, headers, body)
            self.requests.append(received)
            status, extra, payload = await self.respond(received)
            head_out = f"HTTP/1.1 {status} Whatever\r\nContent-Length: {len(payload)}\r\n"
            head_out += "Connection: close\r\n"
            head_out += "".join(f"{name}: {value}\r\n" for name, value in extra.items())
            writer.write(head_out.encode("latin-1") + b"\r\n" + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)


StartListener = Callable[..., Awaitable[Listener]]


@pytest.fixture
async def listen() -> AsyncIterator[StartListener]:
    started: list[Listener] = []

    async def start(host: str = "127.0.0.1", **options: Any) -> Listener:
        listener = await Listener(host=host, **options).start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        await listener.stop()


@pytest.fixture
async def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a refused request resolves a name or opens a connection."""

    async def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a refused request must not touch the network")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", forbidden)
    monkeypatch.setattr(httpx.AsyncClient, "send", forbidden)


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    """Names under .test resolve as given; the guard must connect to exactly these addresses."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return await real(host, port, *args, **kwargs)
        infos = []
        for address in answers[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if ":" in address else (address, port)
            infos.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return infos

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


# --- check_address ------------------------------------------------------------------------------

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "metadata"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "private"),
    ("::", "unspecified"),
    ("255.255.255.255", "broadcast"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("198.18.0.1", "private"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:7f00:1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::127.0.0.1", "loopback"),
    ("::10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "metadata"),
    ("64:ff9b:1::1", "NAT64"),
    ("2002:7f00:1::1", "loopback"),
    ("2002:c0a8:101::1", "private"),
    ("2001::1", "private"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED_ADDRESSES)
def test_check_address_refuses_non_public(address: str, reason: str) -> None:
    ip = ipaddress.ip_address(address)
    with pytest.raises(EgressRefused, match=reason) as refused:
        check_address(ip, "example.com", NOTHING_ALLOWED)
    assert str(refused.value).startswith(f"Refused: {ip} ")


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700::1111", "2a00:1450:4001::200e",
     "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)  # fmt: skip
def test_check_address_allows_public(address: str) -> None:
    check_address(ipaddress.ip_address(address), "example.com", NOTHING_ALLOWED)


def test_check_address_message_reads_well() -> None:
    with pytest.raises(EgressRefused) as refused:
        check_address(ipaddress.ip_address("127.0.0.1"), "x", NOTHING_ALLOWED)
    assert str(refused.value) == "Refused: 127.0.0.1 is a loopback address"
    with pytest.raises(EgressRefused) as refused:
        check_address(ipaddress.ip_address("::ffff:7f00:1"), "x", NOTHING_ALLOWED)
    assert str(refused.value) == "Refused: ::ffff:7f00:1 leads to 127.0.0.1, a loopback address"


def test_policy_allows_cidrs_single_addresses_and_hostnames() -> None:
    policy = EgressPolicy(allow=("10.1.0.0/16", "192.168.7.7", "fd00::/8", "Intranet.Example."))
    for address in ("10.1.2.3", "192.168.7.7", "fd00::5", "::ffff:10.1.0.1"):
        check_address(ipaddress.ip_address(address), "other.example", policy)
    for address in ("10.2.0.1", "192.168.7.8", "fc00::5", "127.0.0.1"):
        with pytest.raises(EgressRefused):
            check_address(ipaddress.ip_address(address), "other.example", policy)
    # A name the admin trusts may live anywhere, whatever spelling the URL uses.
    for host in ("intranet.example", "INTRANET.example.", "intranet.example."):
        check_address(ipaddress.ip_address("127.0.0.1"), host, policy)


def test_policy_from_settings_trusts_configured_service_hosts() -> None:
    policy = EgressPolicy.from_settings(
        ["10.0.0.0/8"],
        [
            "http://searxng:8080/search",
            None,
            "",
            "https://Judge0.internal/",
            "http://172.20.0.5:2358",
        ],
    )
    check_address(ipaddress.ip_address("172.18.0.2"), "searxng", policy)
    check_address(ipaddress.ip_address("172.18.0.3"), "judge0.internal", policy)
    check_address(ipaddress.ip_address("172.20.0.5"), "anything", policy)
    check_address(ipaddress.ip_address("10.9.9.9"), "anything", policy)
    with pytest.raises(EgressRefused):
        check_address(ipaddress.ip_address("172.18.0.2"), "other", policy)


def test_policy_rejects_a_malformed_cidr() -> None:
    with pytest.raises(ValueError, match="not a valid CIDR"):
        EgressPolicy(allow=("10.0.0.0/33",))


# --- refused requests never reach the listener ---------------------------------------------------

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://localhost.:{port}/",
    "http://LocalHost:{port}/",
    "http://app.localhost:{port}/",
    "http://2130706433:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://0x7f000001:{port}/",
    "http://0x7f.1:{port}/",
    "http://127.1:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[::127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://0:{port}/",
    "https://127.0.0.1:{port}/",
]


@pytest.mark.parametrize("template", LOOPBACK_SPELLINGS)
async def test_loopback_spellings_are_refused(template: str, listen: StartListener, no_network: None) -> None:
    listener = await listen()
    with pytest.raises(EgressRefused, match=r"^Refused: "):
        await fetch(NOTHING_ALLOWED, "GET", template.format(port=listener.port), timeout=2)
    assert listener.requests == []


async def test_ipv6_loopback_is_refused(listen: StartListener, no_network: None) -> None:
    try:
        listener = await listen("::1")
    except OSError as exc:
        pytest.skip(f"IPv6 loopback is not available here: {exc}")
    with pytest.raises(EgressRefused, match="loopback"):
        await fetch(NOTHING_ALLOWED, "GET", listener.url(), timeout=2)
    assert listener.requests == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "unique local"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.0.1:8080/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[64:ff9b::a00:1]/", "private"),
        ("http://[2002:a9fe:a9fe::]/", "cloud metadata"),
        ("ftp://example.com/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http://user:pass@example.com/", "user name or password"),
        ("http://user@example.com/", "user name or password"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "not a valid URL"),
    ],
)
async def test_forbidden_urls_are_refused_before_any_connection(url: str, message: str, no_network: None) -> None:
    with pytest.raises(EgressRefused, match=message):
        await fetch(NOTHING_ALLOWED, "GET", url, timeout=0.5)


async def test_a_name_with_any_private_address_is_refused(
    listen: StartListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = await listen()
    fake_dns(monkeypatch, {"rebind.test": ["93.184.215.14", "127.0.0.1"]})
    with pytest.raises(EgressRefused, match=r"127\.0\.0\.1 is a loopback"):
        await fetch(NOTHING_ALLOWED, "GET", listener.url(host="rebind.test"), timeout=2)
    assert listener.requests == []


# --- allowed requests --------------------------------------------------------------------------


async def test_allowlisted_cidr_reaches_the_listener(listen: StartListener) -> None:
    listener = await listen()
    policy = EgressPolicy(allow=("127.0.0.0/8",))
    response = await fetch(
        policy,
        "GET",
        listener.url("/path"),
        params={"q": "nova egress", "n": 3},
        headers={"X-Token": "secret", "Host": "spoofed.example"},
    )
    assert isinstance(response, EgressResponse)
    assert (response.status, response.body, response.truncated) == (200, b"hello", False)
    assert response.text() == "hello"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.url == f"http://127.0.0.1:{listener.port}/path?q=nova+egress&n=3"
    [received] = listener.requests
    assert received.path == "/path?q=nova+egress&n=3"
    assert received.headers["host"] == f"127.0.0.1:{listener.port}"
    assert received.headers["x-token"] == "secret"


async def test_allowlisted_single_address(listen: StartListener) -> None:
    listener = await listen()
    response = await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", listener.url())
    assert response.status == 200
    assert len(listener.requests) == 1


async def test_allowlisted_hostname(listen: StartListener) -> None:
    listener = await listen()
    response = await fetch(EgressPolicy(allow=("localhost",)), "GET", listener.url(host="localhost"))
    assert response.status == 200
    [received] = listener.requests
    assert received.headers["host"] == f"localhost:{listener.port}"


async def test_connects_to_the_checked_address_with_the_real_host_header(
    listen: StartListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the fake resolver knows this name: reaching the listener proves the IP was used.
    listener = await listen()
    fake_dns(monkeypatch, {"service.test": ["127.0.0.1"]})
    policy = EgressPolicy.from_settings([], [f"http://service.test:{listener.port}/api"])
    response = await fetch(policy, "POST", listener.url("/api", host="service.test"), content=b'{"a": 1}')
    assert response.status == 200
    [received] = listener.requests
    assert (received.method, received.body) == ("POST", b'{"a": 1}')
    assert received.headers["host"] == f"service.test:{listener.port}"


async def test_falls_back_to_the_next_address_when_one_does_not_connect(
    listen: StartListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = await listen()
    closed = socket.socket()
    closed.bind(("127.0.0.3", listener.port))  # bound, not listening: connection refused
    try:
        fake_dns(monkeypatch, {"multi.test": ["127.0.0.3", "127.0.0.1"]})
        response = await fetch(EgressPolicy(allow=("multi.test",)), "GET", listener.url(host="multi.test"))
    finally:
        closed.close()
    assert response.status == 200
    assert len(listener.requests) == 1


async def test_unreachable_and_unresolvable_hosts_are_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    try:
        with pytest.raises(EgressError, match="Could not connect"):
            await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", f"http://127.0.0.1:{port}/")
    finally:
        closed.close()
    fake_dns(monkeypatch, {"gone.test": []})
    with pytest.raises(EgressError, match="Could not find the address"):
        await fetch(NOTHING_ALLOWED, "GET", "http://gone.test/")


# --- redirects ---------------------------------------------------------------------------------


def redirect_to(location: str, status: int = 302) -> Responder:
    async def respond(request: Received) -> Reply:
        return status, {"Location": location}, b""

    return respond


async def test_redirect_to_a_refused_address_is_not_followed(listen: StartListener) -> None:
    target = await listen("127.0.0.1")
    start = await listen("127.0.0.2", respond=redirect_to(target.url("/inside")))
    with pytest.raises(EgressRefused, match=r"127\.0\.0\.1 is a loopback"):
        await fetch(EgressPolicy(allow=("127.0.0.2",)), "GET", start.url())
    assert len(start.requests) == 1
    assert target.requests == []


@pytest.mark.parametrize(
    "location",
    ["http://localhost:{port}/", "http://2130706433:{port}/", "file:///etc/passwd",
     "http://[::ffff:127.0.0.1]:{port}/", "http://169.254.169.254/latest/meta-data/"],
)  # fmt: skip
async def test_redirect_spellings_are_rechecked(location: str, listen: StartListener) -> None:
    target = await listen("127.0.0.1")
    start = await listen("127.0.0.2", respond=redirect_to(location.format(port=target.port)))
    with pytest.raises(EgressRefused):
        await fetch(EgressPolicy(allow=("127.0.0.2",)), "GET", start.url(), timeout=2)
    assert len(start.requests) == 1
    assert target.requests == []


async def counting_redirect(request: Received) -> Reply:
    hop = int(request.path.rsplit("/", 1)[-1] or 0)
    if hop >= 5:
        return 200, {}, b"arrived"
    return 302, {"Location": f"/hop/{hop + 1}"}, b""


async def test_five_redirects_are_followed(listen: StartListener) -> None:
    listener = await listen(respond=counting_redirect)
    response = await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", listener.url("/hop/0"))
    assert (response.status, response.body) == (200, b"arrived")
    assert response.url == listener.url("/hop/5")
    assert len(listener.requests) == 6


async def test_a_redirect_chain_longer_than_the_limit_is_an_error(listen: StartListener) -> None:
    listener = await listen(respond=redirect_to("/again"))
    with pytest.raises(EgressError, match="Too many redirects"):
        await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", listener.url())
    assert len(listener.requests) == 6
    with pytest.raises(EgressError, match="more than 2"):
        await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", listener.url(), max_redirects=2)


@pytest.mark.parametrize(("status", "method"), [(301, "GET"), (302, "GET"), (303, "GET"), (307, "POST"), (308, "POST")])  # fmt: skip
async def test_redirect_method_rules(status: int, method: str, listen: StartListener) -> None:
    async def respond(request: Received) -> Reply:
        if request.path == "/form":
            return status, {"Location": "/done"}, b""
        return 200, {}, b"done"

    listener = await listen(respond=respond)
    await fetch(
        EgressPolicy(allow=("127.0.0.1",)),
        "POST",
        listener.url("/form"),
        content=b"a=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _first, second = listener.requests
    assert (second.method, second.path) == (method, "/done")
    if method == "GET":
        assert second.body == b""
        assert "content-type" not in second.headers
    else:
        assert second.body == b"a=1"


async def test_credentials_do_not_follow_a_redirect_to_another_host(
    listen: StartListener,
) -> None:
    other = await listen("127.0.0.3")
    start = await listen("127.0.0.2", respond=redirect_to(other.url("/next")))
    await fetch(
        EgressPolicy(allow=("127.0.0.0/8",)),
        "GET",
        start.url(),
        headers={"Authorization": "Bearer secret", "X-Api-Key": "k", "Accept": "text/html"},
    )
    [first] = start.requests
    [second] = other.requests
    assert first.headers["authorization"] == "Bearer secret"
    assert "authorization" not in second.headers
    assert "x-api-key" not in second.headers
    assert second.headers["accept"] == "text/html"
    assert second.headers["host"] == f"127.0.0.3:{other.port}"


# --- size and time limits -------------------------------------------------------------------


async def test_a_large_body_is_truncated(listen: StartListener) -> None:
    async def respond(request: Received) -> Reply:
        return 200, {}, b"x" * 300_000

    listener = await listen(respond=respond)
    response = await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", listener.url(), max_bytes=1000)
    assert (len(response.body), response.truncated) == (1000, True)


async def test_a_body_of_exactly_max_bytes_is_not_truncated(listen: StartListener) -> None:
    async def respond(request: Received) -> Reply:
        return 200, {}, b"x" * 1000

    listener = await listen(respond=respond)
    response = await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", listener.url(), max_bytes=1000)
    assert (len(response.body), response.truncated) == (1000, False)


async def test_a_slow_server_times_out(listen: StartListener) -> None:
    async def respond(request: Received) -> Reply:
        await asyncio.sleep(10)
        return 200, {}, b"late"

    listener = await listen(respond=respond)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(EgressError, match=r"did not answer within 0\.3 s"):
        await fetch(EgressPolicy(allow=("127.0.0.1",)), "GET", listener.url(), timeout=0.3)
    assert loop.time() - started < 2
    assert len(listener.requests) == 1


# --- decoding ----------------------------------------------------------------------------------


def test_text_uses_the_declared_charset_and_json_parses() -> None:
    def response(body: bytes, content_type: str) -> EgressResponse:
        return EgressResponse("http://x/", 200, {"content-type": content_type}, body, False)

    assert response("café".encode("latin-1"), "text/html; charset=ISO-8859-1").text() == "café"
    assert response("café".encode(), 'text/html; charset="utf-8"').text() == "café"
    assert response(b"caf\xe9", "text/plain; charset=nonsense").text() == "caf\ufffd"
    assert response(b"caf\xe9", "text/plain").text() == "caf\ufffd"
    assert response(b'{"a": [1, 2]}', "application/json").json() == {"a": [1, 2]}


# --- TLS: the certificate is checked against the name, while the socket goes to the address -----


def _certificates(tmp_path: Path, name: str) -> tuple[Path, Path, bytes]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nova test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, ca.public_bytes(serialization.Encoding.PEM)


async def _tls_listener(
    listen: StartListener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cert_name: str
) -> tuple[Listener, list[str | None]]:
    cert_file, key_file, ca_pem = _certificates(tmp_path, cert_name)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    sni_seen: list[str | None] = []

    def record_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        sni_seen.append(name)

    server_context.sni_callback = record_sni
    client_context = ssl.create_default_context(cadata=ca_pem.decode())
    monkeypatch.setattr(egress_client, "_tls_context", lambda: client_context)
    fake_dns(monkeypatch, {"secure.test": ["127.0.0.1"]})
    return await listen(tls=server_context), sni_seen


async def test_https_sends_sni_and_verifies_the_certificate_for_the_name(
    listen: StartListener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener, sni_seen = await _tls_listener(listen, tmp_path, monkeypatch, "secure.test")
    url = listener.url("/", host="secure.test")
    response = await fetch(EgressPolicy(allow=("secure.test",)), "GET", url)
    assert response.status == 200
    assert response.url == url
    assert sni_seen == ["secure.test"]
    [received] = listener.requests
    assert received.headers["host"] == f"secure.test:{listener.port}"


async def test_https_refuses_a_certificate_for_another_name(
    listen: StartListener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener, _ = await _tls_listener(listen, tmp_path, monkeypatch, "impostor.test")
    with pytest.raises(EgressError, match=r"Could not connect to secure\.test"):
        await fetch(EgressPolicy(allow=("secure.test",)), "GET", listener.url("/", host="secure.test"))
    assert listener.requests == []


# --- the transport the LLM SDKs use for a user's provider --------------------------------------


def guarded_client(policy: EgressPolicy, **options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=GuardedAsyncTransport(policy, **options), trust_env=False)


def test_httpx_itself_rejects_octal_ipv4() -> None:
    # So the SDK clients never send such a URL anywhere; the other spellings reach the transport.
    with pytest.raises(httpx.InvalidURL):
        httpx.URL("http://0177.0.0.1/")


@pytest.mark.parametrize("template", [t for t in LOOPBACK_SPELLINGS if "0177" not in t])
async def test_the_transport_refuses_loopback_spellings(template: str, listen: StartListener) -> None:
    listener = await listen()
    async with guarded_client(NOTHING_ALLOWED) as client:
        with pytest.raises(EgressRefused, match=r"^Refused: "):
            await client.get(template.format(port=listener.port))
    assert listener.requests == []


async def test_the_transport_refuses_a_name_with_any_private_address(
    listen: StartListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = await listen()
    fake_dns(monkeypatch, {"rebind.test": ["93.184.215.14", "127.0.0.1"]})
    async with guarded_client(NOTHING_ALLOWED) as client:
        with pytest.raises(EgressRefused, match=r"127\.0\.0\.1 is a loopback"):
            await client.get(listener.url(host="rebind.test"))
    assert listener.requests == []


async def test_the_transport_reports_an_unknown_name_as_a_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"gone.test": []})
    async with guarded_client(NOTHING_ALLOWED) as client:
        with pytest.raises(httpx.ConnectError, match=r"Could not find the address of gone\.test"):
            await client.get("http://gone.test/")


async def test_the_transport_verifies_tls_for_the_name_it_connects_by_address(
    listen: StartListener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener, sni_seen = await _tls_listener(listen, tmp_path, monkeypatch, "secure.test")
    policy = EgressPolicy(allow=("secure.test",))
    async with guarded_client(policy, verify=egress_client._tls_context()) as client:
        response = await client.get(listener.url("/", host="secure.test"))
    assert (response.status_code, response.text) == (200, "hello")
    assert sni_seen == ["secure.test"]
    [received] = listener.requests
    assert received.headers["host"] == f"secure.test:{listener.port}"


async def test_the_transport_refuses_a_certificate_for_another_name(
    listen: StartListener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener, _ = await _tls_listener(listen, tmp_path, monkeypatch, "impostor.test")
    policy = EgressPolicy(allow=("secure.test",))
    async with guarded_client(policy, verify=egress_client._tls_context()) as client:
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await client.get(listener.url("/", host="secure.test"))
    assert listener.requests == []


async def test_closing_one_client_of_a_shared_pool_leaves_the_others_streaming(llm: ScriptedLLM) -> None:
    policy = EgressPolicy(allow=("127.0.0.1",))
    streaming = httpx.AsyncClient(transport=shared_async_transport(policy, llm.base_url))
    closed = httpx.AsyncClient(transport=shared_async_transport(policy, llm.base_url))
    body = {"model": "tokens=40,rate=200", "stream": True, "messages": []}
    lines = []
    async with streaming, streaming.stream("POST", f"{llm.base_url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            lines.append(line)
            if len(lines) == 3:
                await closed.aclose()  # as an SDK client might, when its model is done
    assert "data: [DONE]" in lines
