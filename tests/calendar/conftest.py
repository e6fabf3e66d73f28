"""A real CalDAV server for the calendar client: Radicale on a free port, one account per test."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import caldav
import httpx
import pytest

from app.calendar import CalendarCredentials
from app.egress import EgressPolicy
from tests.fixtures.server import free_port

# Radicale listens on loopback, which the egress guard refuses unless allowed, as an admin would.
LOOPBACK = EgressPolicy(allow=("127.0.0.1",))


@dataclass
class Radicale:
    url: str
    users: Path
    log: Path
    _numbers: Iterator[int]

    def requests_seen(self) -> int:
        """How many requests Radicale has logged so far."""
        return self.log.read_text().count(" request for ")

    def new_account(self, password: str = "secret") -> CalendarCredentials:
        """A fresh user with an empty "Personal" calendar (the htpasswd file is read per request)."""
        username = f"user{next(self._numbers)}"
        with self.users.open("a") as users:
            users.write(f"{username}:{password}\n")
        with caldav.DAVClient(self.url, username=username, password=password) as client:
            client.principal().make_calendar(name="Personal")
        return CalendarCredentials(url=self.url, username=username, password=password)


@pytest.fixture(scope="session")
def radicale() -> Iterator[Radicale]:
    folder = Path(tempfile.mkdtemp(prefix="nova-radicale-"))
    users = folder / "users"
    users.write_text("alice:secret\n")
    log = folder / "radicale.log"
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config",
             "--server-hosts", f"127.0.0.1:{port}",
             "--storage-filesystem-folder", str(folder / "collections"),
             "--auth-type", "htpasswd",
             "--auth-htpasswd-filename", str(users),
             "--auth-htpasswd-encryption", "plain",
             # caldav asks without the password first over http; Radicale would delay that by 1 s.
             "--auth-delay", "0",
             "--rights-type", "owner_only"],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_answering(url, process, log)
        yield Radicale(url=url, users=users, log=log, _numbers=itertools.count(1))
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            # A request thread stuck in a long recurrence walk keeps Radicale from exiting.
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Radicale exited:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"Radicale did not start:\n{log.read_text()}")


@pytest.fixture
def alice(radicale: Radicale) -> CalendarCredentials:
    """The brief's account, with its own "Personal" calendar (created on first use)."""
    credentials = CalendarCredentials(url=radicale.url, username="alice", password="secret")
    with caldav.DAVClient(radicale.url, username="alice", password="secret") as client:
        principal = client.principal()
        if not principal.calendars():
            principal.make_calendar(name="Personal")
    return credentials


@pytest.fixture
def account(radicale: Radicale) -> CalendarCredentials:
    """A fresh account per test, so tests never see each other's events."""
    return radicale.new_account()
