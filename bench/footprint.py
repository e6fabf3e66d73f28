"""Footprint benchmark: how fast `nova serve` answers and how much memory it holds idle.

On the embedded default (SQLite, in-process jobs), with a migrated data directory:
  - seconds from starting `nova serve` to the first `/healthz` 200 (median of --repeat);
  - the web process's resident memory once it answers, idle (no run yet);
  - the Python import of `app.main` alone: seconds and peak RSS in a fresh interpreter.
Prints a table and one JSON line.

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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.server import free_port, nova_command, nova_env  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_to_healthz(data_dir: Path) -> tuple[float, float]:
    """(seconds to the first /healthz 200, idle RSS in MB) for one `nova serve`."""
    port = free_port()
    env = nova_env(
        data_dir, NOVA_PORT=str(port), NOVA_HOST="127.0.0.1", NOVA_ADMIN_PASSWORD=f"bench-{port}-admin"
    )  # a throwaway instance
    started = time.perf_counter()
    process = subprocess.Popen(nova_command("serve"), cwd=ROOT, env=env,
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


def import_cost() -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `import app.main` in a fresh interpreter."""
    probe = (
        "import resource, time; t = time.perf_counter(); import app.main; "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        subprocess.run(nova_command("migrate"), cwd=ROOT, env=nova_env(data_dir), check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        serves = [start_to_healthz(data_dir) for _ in range(args.repeat)]
    imports = [import_cost() for _ in range(args.repeat)]
    figures = {
        "serve_to_healthz_s": round(statistics.median(s for s, _ in serves), 2),
        "serve_to_healthz_range_s": [round(min(s for s, _ in serves), 2), round(max(s for s, _ in serves), 2)],
        "web_idle_rss_mb": round(statistics.median(r for _, r in serves), 1),
        "import_app_main_s": round(statistics.median(s for s, _ in imports), 2),
        "import_app_main_peak_rss_mb": round(statistics.median(r for _, r in imports), 1),
        "cpu_cores": os.cpu_count(),
    }
    print(f"{'figure':<34} value")
    for name, value in figures.items():
        print(f"{name:<34} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
