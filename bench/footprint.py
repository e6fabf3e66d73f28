"""Footprint benchmark: how fast `nova serve` answers, how much memory it holds idle, how
much disk Nova's runtime takes.

On the embedded default (SQLite, in-process jobs), with a migrated data directory:
  - seconds from starting `nova serve` to the first `/healthz` 200 (median of --repeat);
  - the web process's resident memory once it answers, idle (no run yet);
  - the Python import of `app.main` alone: seconds and peak RSS in a fresh interpreter;
  - the runtime install: disk used (as `du` counts) by Nova's run-time dependencies, the
    closure of `[project] dependencies` without the dev extra, plus pip: the files their
    RECORDs list in this venv, i.e. a venv made by `pip install .` at the same pins.
Prints a table and one JSON line. `bench/stream.py` reuses these functions.

Run: .venv/bin/python bench/footprint.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.server import free_port, nova_command, nova_env  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def migrate(data_dir: Path, **env: str) -> None:
    quiet = {"NOVA_LOG_LEVEL": "warning", **env}
    subprocess.run(nova_command("migrate"), cwd=ROOT, env=nova_env(data_dir, **quiet), check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


@contextmanager
def migrated_data_dir() -> Iterator[Path]:
    """A throwaway embedded data directory with its SQLite database migrated."""
    with tempfile.TemporaryDirectory() as folder:
        migrate(Path(folder))
        yield Path(folder)


def start_to_healthz(data_dir: Path, **env: str) -> tuple[float, float]:
    """(seconds to the first /healthz 200, idle RSS in MB) for one `nova serve`.

    `env` adds settings (DATABASE_URL, REDIS_URL and the keys for the scaled setup)."""
    port = free_port()
    settings = {"NOVA_ADMIN_PASSWORD": f"bench-{port}-admin", **env, "NOVA_PORT": str(port), "NOVA_HOST": "127.0.0.1"}
    started = time.perf_counter()
    process = subprocess.Popen(nova_command("serve"), cwd=ROOT, env=nova_env(data_dir, **settings),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError("nova serve exited")
            time.sleep(0.01)
        ready = time.perf_counter() - started
        time.sleep(1.0)  # settled: start-up work done, nothing running
        return ready, rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def serve_figures(data_dir: Path, repeat: int, **env: str) -> dict[str, Any]:
    """`nova serve` to /healthz (median and range of `repeat` starts) and its idle RSS."""
    serves = [start_to_healthz(data_dir, **env) for _ in range(repeat)]
    seconds = [s for s, _ in serves]
    return {
        "serve_to_healthz_s": round(statistics.median(seconds), 2),
        "serve_to_healthz_range_s": [round(min(seconds), 2), round(max(seconds), 2)],
        "serve_idle_rss_mb": round(statistics.median(r for _, r in serves), 1),
    }


def import_cost() -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `import app.main` in a fresh interpreter."""
    probe = (
        "import resource, time; t = time.perf_counter(); import app.main; "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def _installed_bytes(dist: metadata.Distribution) -> int:
    """Disk used by the files a distribution installed (allocated blocks, as `du` counts)."""
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_blocks * 512
    return total


def _installed() -> dict[str, metadata.Distribution]:
    return {str(canonicalize_name(d.metadata["Name"])): d for d in metadata.distributions()}


def runtime_closure(project: str = "nova") -> set[str]:
    """Names of the distributions `project` needs at run time: its dependencies (no extras
    of its own, so no dev tools) and theirs, with the extras they ask for."""
    installed = _installed()
    needed: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [(canonicalize_name(project), frozenset())]
    visited: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in visited or name not in installed:
            continue
        visited.add((name, extras))
        needed.add(name)
        for line in installed[name].requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in ("", *extras)):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return needed - {canonicalize_name(project)}


def install_figures() -> dict[str, Any]:
    """Disk used by the runtime closure (+ pip, which every venv has) and by every
    distribution in this venv (dev tools included): what `du` would say of each venv."""
    installed = _installed()
    runtime = runtime_closure() | {"pip"}
    sizes = {name: _installed_bytes(dist) for name, dist in installed.items()}
    return {
        "runtime_install_mb": round(sum(sizes[n] for n in runtime if n in sizes) / 2**20),
        "runtime_distributions": len(runtime & sizes.keys()),
        "venv_installed_mb": round(sum(sizes.values()) / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with migrated_data_dir() as data_dir:
        serve = serve_figures(data_dir, args.repeat)
    imports = [import_cost() for _ in range(args.repeat)]
    figures = {
        "serve_to_healthz_s": serve["serve_to_healthz_s"],
        "serve_to_healthz_range_s": serve["serve_to_healthz_range_s"],
        "web_idle_rss_mb": serve["serve_idle_rss_mb"],
        "import_app_main_s": round(statistics.median(s for s, _ in imports), 2),
        "import_app_main_peak_rss_mb": round(statistics.median(r for _, r in imports), 1),
        **install_figures(),
        "cpu_cores": os.cpu_count(),
    }
    print(f"{'figure':<34} value")
    for name, value in figures.items():
        print(f"{name:<34} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
