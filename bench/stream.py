"""Streaming benchmark: every figure of issue 9's Targets table, for the scaled and the
embedded setup, in one invocation.

Scaled: `nova serve` + `nova worker`(s), Redis, PostgreSQL. Embedded: `nova serve` alone
on SQLite (runs in the process, events in memory). Both read a scripted OpenAI-compatible
provider (tests/fixtures/llm_server.py, a process of its own) whose model name describes
the reply: "tokens=5000" is 5,000 tokens at full speed, "tokens=500,rate=100" is paced.

For each setup:
  ratio   a 5,000-token answer read with the official openai client through Nova's
          /v1/chat/completions ÷ the same client reading the provider directly
          (tokens/s, medians of 3 runs each);
  cpu     CPU µs per streamed token of each Nova process over those runs: web and
          worker(s) from /proc/<pid>/stat (utime + stime), Redis from INFO cpu;
  wire    events and bytes per 5,000-token answer on the run's JSON event stream
          (/api/v1/runs/{id}/events) and on the /v1 stream, both read raw with httpx;
  first   time to first token added by Nova, p50/p95 over 50 short runs;
  paced   --concurrency runs of 500 tokens at 100 tok/s (openai client): p95 completion
          ÷ one run alone, and the same figure for the provider direct;
  lean    --lean runs of 200 tokens at 20 tok/s, read by a raw-SSE httpx client (not the
          openai client): exact answers, p95 ÷ one run alone;
  idle    --idle SSE connections held on the one web process: the event streams of a run
          that is mid-reply and silent (its model sends a token every 100 s), held for two
          heartbeat intervals: how many stay open, whether every heartbeat comes on time,
          the web process's RSS growth;
  memory  idle RSS of web and worker after start, before any load; `nova serve` to the
          first /healthz 200 on a migrated database (bench/footprint.py).
Then the runtime install size (bench/footprint.py). Prints a table, then one JSON line.

Run: .venv/bin/python bench/stream.py [--mode both|scaled|embedded] [--concurrency 50]
         [--lean 200] [--idle 2000] [--workers 1] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openai import AsyncOpenAI  # noqa: E402

from bench import footprint  # noqa: E402
from bench.footprint import cpu_seconds  # noqa: E402
from tests.fixtures.live import LiveNova, live_nova  # noqa: E402
from tests.fixtures.postgres import fresh_database, postgres_server  # noqa: E402
from tests.fixtures.redis import RedisServer  # noqa: E402
from tests.fixtures.server import _drain, free_port  # noqa: E402

LONG = "tokens=5000"
SHORT = "tokens=5"
PACED = "tokens=500,rate=100"
LEAN = "tokens=200,rate=20"
# One token, then 100 s of silence: under the 120 s read timeout Nova gives a provider.
SILENT = "tokens=50,rate=0.01"
MODELS = (LONG, SHORT, PACED, LEAN, SILENT)


@dataclass(frozen=True)
class Plan:
    reps: int  # 5,000-token runs each way, and wire measurements
    first_runs: int  # short runs for first-token latency, each way
    serve_repeat: int  # `nova serve` starts
    concurrency: int  # paced runs at once
    lean: int  # lean-client runs at once
    idle: int  # idle SSE connections (0: skip)
    heartbeats: int  # heartbeat intervals the idle connections are held for


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def expected(model: str) -> str:
    count = int(model.split(",")[0].split("=")[1])
    return " ".join(f"t{n}" for n in range(count))


def span(values: list[float], digits: int = 2) -> list[float]:
    return [round(min(values), digits), round(max(values), digits)]


# -- processes ------------------------------------------------------------------------


def redis_cpu_seconds(client: redis.Redis) -> float:
    info: dict[str, Any] = client.info("cpu")  # type: ignore[assignment]
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


@dataclass
class Processes:
    """The Nova processes of a setup, and the provider's (for reference, not Nova's)."""

    live: LiveNova
    provider_pid: int
    redis: redis.Redis | None

    def cpu(self) -> dict[str, float]:
        taken = {"web": cpu_seconds(self.live.web_pid)}
        if self.live.worker_pids:
            taken["worker"] = sum(cpu_seconds(pid) for pid in self.live.worker_pids)
        if self.redis is not None:
            taken["redis"] = redis_cpu_seconds(self.redis)
        taken["provider"] = cpu_seconds(self.provider_pid)
        return taken


# -- clients ----------------------------------------------------------------------------

_EVENT_END = re.compile(rb"\r\n\r\n|\n\n")
_LINE_END = re.compile(rb"\r\n|\n")
_LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@dataclass
class Stream:
    """One SSE response read raw: its events (type, data), heartbeats, body bytes."""

    frames: list[tuple[str, bytes]] = field(default_factory=list)
    heartbeats: int = 0
    nbytes: int = 0
    seconds: float = 0.0
    text: str = ""


async def read_sse(response: httpx.Response) -> Stream:
    """Split the body into events as it arrives; comments (`: ping`) are heartbeats."""
    stream, buffer = Stream(), b""
    async for chunk in response.aiter_raw():
        stream.nbytes += len(chunk)
        *blocks, buffer = _EVENT_END.split(buffer + chunk)
        for block in blocks:
            event, data = "message", []
            for line in _LINE_END.split(block):
                if line.startswith(b":"):
                    stream.heartbeats += 1
                elif line.startswith(b"data:"):
                    data.append(line[5:].removeprefix(b" "))
                elif line.startswith(b"event:"):
                    event = line[6:].strip().decode()
            if data:
                stream.frames.append((event, b"\n".join(data)))
    return stream


async def v1_stream(client: httpx.AsyncClient, model: str) -> Stream:
    """A streamed /v1/chat/completions read raw: text from the chunks' content deltas."""
    started = time.perf_counter()
    body = {"model": model, "messages": [{"role": "user", "content": "go"}], "stream": True}
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"/v1 answered {response.status_code}: {(await response.aread())[:200]!r}")
        stream = await read_sse(response)
    stream.seconds = time.perf_counter() - started
    parts: list[str] = []
    for _event, data in stream.frames:
        if data != b"[DONE]":
            choices = json.loads(data).get("choices")
            if choices:
                parts.append(choices[0]["delta"].get("content") or "")
    stream.text = "".join(parts)
    return stream


async def run_events(api: httpx.AsyncClient, run_id: str, *, until_text: bool = False) -> Stream:
    """A run's JSON event stream read raw from its start (or until its first text)."""
    started = time.perf_counter()
    parts: list[str] = []
    async with api.stream("GET", f"/api/v1/runs/{run_id}/events", timeout=600) as response:
        if response.status_code != 200:
            raise RuntimeError(f"events answered {response.status_code}")
        if until_text:
            async for line in response.aiter_lines():
                if line.startswith("event: message.delta"):
                    break
            return Stream()
        stream = await read_sse(response)
    stream.seconds = time.perf_counter() - started
    for event, data in stream.frames:
        if event == "run.restarted":
            parts[:] = [json.loads(data).get("text", "")]
        elif event == "message.delta":
            parts.append(json.loads(data)["text"])
    stream.text = "".join(parts)
    return stream


async def post_run(api: httpx.AsyncClient, agent: str) -> str:
    """A new thread (with a title of its own, so none is generated) and a message: the run's id."""
    thread = await api.post("/api/v1/threads", json={"title": "Bench"})
    assert thread.status_code == 201, thread.text
    posted = await api.post(f"/api/v1/threads/{thread.json()['id']}/messages", json={"content": "go", "agent": agent})
    assert posted.status_code == 201, posted.text
    return str(posted.json()["run_id"])


async def stream_text(client: AsyncOpenAI, model: str) -> tuple[str, float, float]:
    """(text, seconds to first token, seconds total) for one completion, official client."""
    started = time.perf_counter()
    first = None
    parts: list[str] = []
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "go"}], stream=True, max_tokens=10_000
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.perf_counter() - started
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts), first or 0.0, time.perf_counter() - started


# -- the figures ------------------------------------------------------------------------


async def seed_agents(live: LiveNova, provider_url: str) -> dict[str, str]:
    """A user, token and provider, and one agent per scripted model: {model: agent slug}."""
    from sqlalchemy import select

    from app.agent_configs import service as agent_configs
    from app.models import Provider

    await live.seed(provider_url)
    slugs = {}
    async with live.db.transaction() as session:
        provider = await session.scalar(select(Provider))
        assert provider is not None
        for model in MODELS:
            name = model.replace("=", "-").replace(",", "-").replace(".", "")
            data = agent_configs.AgentInput(name, "", str(provider.id), model, "0", "25", False)
            slugs[model] = (await agent_configs.create_agent(session, live.user_id, data)).slug
    return slugs


async def ratio_and_cpu(
    live: LiveNova, processes: Processes, provider_url: str, slug: dict[str, str], plan: Plan
) -> dict[str, Any]:
    direct = AsyncOpenAI(base_url=provider_url, api_key="x", max_retries=0)
    nova = AsyncOpenAI(base_url=live.url + "/v1", api_key=live.token, max_retries=0, timeout=600)
    await stream_text(direct, LONG)  # warm up both paths (the first run loads the runtime)
    await stream_text(nova, slug[LONG])
    await live.settle()

    direct_runs = [await stream_text(direct, LONG) for _ in range(plan.reps)]
    before = processes.cpu()
    nova_runs = [await stream_text(nova, slug[LONG]) for _ in range(plan.reps)]
    await live.settle()  # the worker's last writes of the last run count too
    after = processes.cpu()
    await direct.close()
    await nova.close()

    tokens = 5000 * plan.reps
    cpu = {name: round((after[name] - before[name]) / tokens * 1e6, 1) for name in before}
    cpu["total"] = round(sum(v for k, v in cpu.items() if k != "provider"), 1)
    direct_tps = [5000 / t for _x, _f, t in direct_runs]
    nova_tps = [5000 / t for _x, _f, t in nova_runs]
    exact = all(text == expected(LONG) for text, _f, _t in direct_runs + nova_runs)
    return {
        "ratio": round(statistics.median(nova_tps) / statistics.median(direct_tps), 3),
        "ratio_range": span([t / statistics.median(direct_tps) for t in nova_tps], 3),
        "direct_tokens_per_s": round(statistics.median(direct_tps)),
        "nova_tokens_per_s": round(statistics.median(nova_tps)),
        "answers_exact": exact,
        "cpu_us_per_token": cpu,
    }


async def wire(live: LiveNova, slug: dict[str, str], plan: Plan) -> dict[str, Any]:
    """Events and bytes of 5,000-token answers: the run's event stream, the /v1 stream."""
    events, v1 = [], []
    async with live.api() as api:
        api.timeout = httpx.Timeout(600)
        for _ in range(plan.reps):
            run_id = await post_run(api, slug[LONG])
            events.append(await run_events(api, run_id))
            v1.append(await v1_stream(api, slug[LONG]))
    return {
        "events_per_answer": statistics.median(len(s.frames) for s in events),
        "events_range": span([len(s.frames) for s in events], 0),
        "delta_events_per_answer": statistics.median(sum(e == "message.delta" for e, _ in s.frames) for s in events),
        "event_stream_bytes": statistics.median(s.nbytes for s in events),
        "v1_chunks_per_answer": statistics.median(len(s.frames) for s in v1),
        "v1_bytes": statistics.median(s.nbytes for s in v1),
        "answers_exact": all(s.text == expected(LONG) for s in events + v1),
    }


async def first_token(live: LiveNova, provider_url: str, slug: dict[str, str], plan: Plan) -> dict[str, Any]:
    direct = AsyncOpenAI(base_url=provider_url, api_key="x", max_retries=0)
    nova = AsyncOpenAI(base_url=live.url + "/v1", api_key=live.token, max_retries=0, timeout=600)
    direct_first = [(await stream_text(direct, SHORT))[1] for _ in range(plan.first_runs)]
    nova_first = [(await stream_text(nova, slug[SHORT]))[1] for _ in range(plan.first_runs)]
    await direct.close()
    await nova.close()
    baseline = statistics.median(direct_first)
    added = [n - baseline for n in nova_first]
    return {
        "runs": plan.first_runs,
        "direct_p50_ms": round(baseline * 1000, 1),
        "added_p50_ms": round(percentile(added, 0.5) * 1000, 1),
        "added_p95_ms": round(percentile(added, 0.95) * 1000, 1),
    }


def completion_figures(results: list[Any], want: str, single: float) -> dict[str, Any]:
    """Completed/exact counts and p95 completion ÷ a single run, from (text, seconds) pairs."""
    done = [r for r in results if isinstance(r, tuple)]
    errors = [r for r in results if not isinstance(r, tuple)]
    figures: dict[str, Any] = {
        "runs": len(results),
        "completed": len(done),
        "exact": sum(text == want for text, _t in done),
        "errors": len(errors),
        "single_s": round(single, 2),
        "p95_s": round(percentile([t for _x, t in done], 0.95), 2) if done else None,
    }
    figures["p95_over_single"] = round(figures["p95_s"] / single, 2) if done else None
    if errors:
        figures["first_error"] = repr(errors[0])[:300]
    return figures


async def paced(live: LiveNova, provider_url: str, slug: dict[str, str], plan: Plan) -> dict[str, Any]:
    """N runs of 500 tokens at 100 tok/s at once, official client: Nova and the provider direct."""
    figures = {}
    for name, client, model in (
        ("direct", AsyncOpenAI(base_url=provider_url, api_key="x", max_retries=0, timeout=600), PACED),
        ("nova", AsyncOpenAI(base_url=live.url + "/v1", api_key=live.token, max_retries=0, timeout=600),
         slug[PACED]),
    ):  # fmt: skip

        async def one(client: AsyncOpenAI = client, model: str = model) -> tuple[str, float]:
            text, _first, seconds = await stream_text(client, model)
            return text, seconds

        single = (await one())[1]
        results = await asyncio.gather(*(one() for _ in range(plan.concurrency)), return_exceptions=True)
        figures[name] = completion_figures(list(results), expected(PACED), single)
        await client.close()
        await live.settle()
    return figures


async def lean(live: LiveNova, slug: dict[str, str], plan: Plan) -> dict[str, Any]:
    """N runs of 200 tokens at 20 tok/s at once through /v1, read by a raw-SSE httpx client."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    headers = {"authorization": f"Bearer {live.token}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=600, limits=limits) as client:

        async def one() -> tuple[str, float]:
            stream = await v1_stream(client, slug[LEAN])
            return stream.text, stream.seconds

        single = (await one())[1]
        results = await asyncio.gather(*(one() for _ in range(plan.lean)), return_exceptions=True)
    await live.settle()
    return completion_figures(list(results), expected(LEAN), single)


@dataclass
class IdleConnection:
    status: int = 0
    opened: float = 0.0
    pings: list[float] = field(default_factory=list)
    closed: float | None = None
    error: str = ""


class Countdown:
    def __init__(self, count: int) -> None:
        self.left = count
        self.done = asyncio.Event()
        if count <= 0:
            self.done.set()

    def tick(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.done.set()


async def hold_connection(
    host: str, port: int, request: bytes, conn: IdleConnection, gate: asyncio.Semaphore, answered: Countdown
) -> None:
    """Open one event stream on a bare socket and note when each heartbeat arrives."""
    async with gate:
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            conn.error = repr(exc)
            answered.tick()
            return
        conn.status = int(head.split(b" ", 2)[1])
        conn.opened = time.monotonic()
        answered.tick()
    try:
        tail = b""
        while conn.status == 200 and (data := await reader.read(65536)):
            seen = tail + data  # a ping split across reads is counted once, when it completes
            conn.pings.extend([time.monotonic()] * seen.count(b": ping"))
            tail = seen[-5:]
        conn.closed = time.monotonic()
    except OSError as exc:
        conn.error, conn.closed = repr(exc), time.monotonic()
    finally:
        writer.close()


async def idle_connections(live: LiveNova, slug: dict[str, str], plan: Plan) -> dict[str, Any]:
    """--idle event streams of one silent run, held on the web process for a while."""
    from app.settings import Settings

    default = Settings.model_fields["sse_heartbeat_seconds"].default
    heartbeat = float(live.env.get("NOVA_SSE_HEARTBEAT_SECONDS", default))
    tolerance = max(1.0, 0.1 * heartbeat)
    async with live.api() as api:
        run_id = await post_run(api, slug[SILENT])
        await asyncio.wait_for(run_events(api, run_id, until_text=True), 60)  # mid-reply, runtime loaded
        await asyncio.sleep(1.0)
        rss_before, cpu_before = footprint.rss_mb(live.web_pid), cpu_seconds(live.web_pid)

        address = urlsplit(live.url)
        host, port = address.hostname or "127.0.0.1", address.port or 80
        request = (
            f"GET /api/v1/runs/{run_id}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {live.token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        conns = [IdleConnection() for _ in range(plan.idle)]
        gate = asyncio.Semaphore(64)
        started = time.monotonic()
        answered = Countdown(len(conns))
        tasks = [asyncio.create_task(hold_connection(host, port, request, c, gate, answered)) for c in conns]
        with suppress(TimeoutError):
            await asyncio.wait_for(answered.done.wait(), 300)
        open_seconds = time.monotonic() - started
        hold_until = time.monotonic() + plan.heartbeats * heartbeat + tolerance + 1
        rss_peak = footprint.rss_mb(live.web_pid)
        hold_cpu, hold_started = cpu_seconds(live.web_pid), time.monotonic()
        while time.monotonic() < hold_until:
            await asyncio.sleep(1.0)
            rss_peak = max(rss_peak, footprint.rss_mb(live.web_pid))
        end = time.monotonic()
        hold_cpu_share = (cpu_seconds(live.web_pid) - hold_cpu) / (end - hold_started)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

        held = [c for c in conns if c.status == 200 and c.closed is None]
        gaps = [b - a for c in held for a, b in zip([c.opened, *c.pings], [*c.pings, end], strict=True)]
        on_time = sum(
            all(b - a <= heartbeat + tolerance for a, b in zip([c.opened, *c.pings], [*c.pings, end], strict=True))
            for c in held
        )
        failed = [c for c in conns if c.status != 200 or c.closed is not None]
        cancelled = await api.post(f"/api/v1/runs/{run_id}/cancel")
        assert cancelled.status_code == 202, cancelled.text
    await live.settle()
    figures: dict[str, Any] = {
        "connections": plan.idle,
        "held": len(held),
        "failed": len(failed),
        "heartbeat_s": heartbeat,
        "open_all_s": round(open_seconds, 1),
        "held_for_s": round(end - started, 1),
        "heartbeats_received": sum(len(c.pings) for c in held),
        "connections_every_heartbeat_on_time": on_time,
        "max_heartbeat_gap_s": round(max(gaps), 2) if gaps else None,
        "late_tolerance_s": tolerance,
        "web_rss_before_mb": round(rss_before, 1),
        "web_rss_peak_mb": round(rss_peak, 1),
        "web_rss_growth_mb": round(rss_peak - rss_before, 1),
        "web_cpu_share_while_held": round(hold_cpu_share, 3),
        "web_cpu_s_while_opening": round(hold_cpu - cpu_before, 1),
    }
    if failed:
        sample = failed[0]
        figures["first_failure"] = sample.error or f"status {sample.status}, closed by the server"
    return figures


def idle_rss(live: LiveNova) -> dict[str, Any]:
    """Resident memory of the processes just started, before any run."""
    workers = [footprint.rss_mb(pid) for pid in live.worker_pids]
    return {
        "web_mb": round(footprint.rss_mb(live.web_pid), 1),
        "worker_mb": round(max(workers), 1) if workers else None,
    }


def log_problems(live: LiveNova) -> dict[str, Any]:
    """Warnings and errors the Nova processes logged during the bench (a sample of each)."""
    _drain(live.web)
    lines = {"web": [line.strip() for line in live.web.output]}
    for log_file in sorted(live.data_dir.glob("worker-*.log")):
        lines[log_file.stem] = log_file.read_text(errors="replace").splitlines()
    found: dict[str, Any] = {}
    for name, text in lines.items():
        problems = [n for n, line in enumerate(text) if " WARNING " in line or " ERROR " in line]
        if problems:
            first = problems[0]
            # The exception that ended the first one's traceback, if it has one: the last
            # line before the next log record.
            following = [line for line in text[first + 1 :] if line.strip()]
            detail = next((n for n, line in enumerate(following) if _LOG_RECORD.match(line)), len(following))
            cause = following[detail - 1].strip() if detail else ""
            found[name] = {"count": len(problems), "first": text[first][:240], "cause": cause[:240]}
    return found


async def keep_draining(live: LiveNova) -> None:
    """Read `nova serve`'s output as it comes: a full pipe would block the server."""
    while True:
        _drain(live.web)
        await asyncio.sleep(0.5)


async def measure(
    live: LiveNova, provider: subprocess.Popen[bytes], provider_url: str, redis_url: str | None, plan: Plan
) -> dict[str, Any]:
    drainer = asyncio.create_task(keep_draining(live))
    redis_client = redis.Redis.from_url(redis_url) if redis_url else None
    try:
        await asyncio.sleep(1.0)  # settled after start
        figures: dict[str, Any] = {"idle_rss": idle_rss(live)}
        if live.mode == "scaled":
            with tempfile.TemporaryDirectory() as folder:
                serve = await asyncio.to_thread(footprint.serve_figures, Path(folder), plan.serve_repeat, **live.env)
        else:
            with footprint.migrated_data_dir() as data_dir:
                serve = await asyncio.to_thread(footprint.serve_figures, data_dir, plan.serve_repeat)
        figures["serve"] = serve
        slug = await seed_agents(live, provider_url)
        processes = Processes(live, provider.pid, redis_client)
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("idle", lambda: idle_connections(live, slug, plan)),  # first: RSS growth from a quiet process
            ("ratio", lambda: ratio_and_cpu(live, processes, provider_url, slug, plan)),
            ("wire", lambda: wire(live, slug, plan)),
            ("first_token", lambda: first_token(live, provider_url, slug, plan)),
            ("paced", lambda: paced(live, provider_url, slug, plan)),
            ("lean", lambda: lean(live, slug, plan)),
        ]
        for name, step in steps:
            if name == "idle" and not plan.idle:
                continue
            started = time.perf_counter()
            print(f"  {live.mode}: {name}…", file=sys.stderr, flush=True)
            figures[name] = await step()
            print(f"  {live.mode}: {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        figures["log_problems"] = log_problems(live)
        return figures
    finally:
        drainer.cancel()
        if redis_client is not None:
            redis_client.close()


@asynccontextmanager
async def scaled_nova(settings: dict[str, Any], workers: int) -> AsyncIterator[tuple[LiveNova, str]]:
    redis_server = RedisServer().start()
    try:
        with postgres_server() as server, fresh_database(server) as database_url:
            with tempfile.TemporaryDirectory() as data_dir:
                async with live_nova(
                    "scaled", Path(data_dir), postgres_url=database_url, redis_url=redis_server.url,
                    workers=workers, **settings,
                ) as live:  # fmt: skip
                    yield live, redis_server.url
    finally:
        redis_server.cleanup()


@asynccontextmanager
async def embedded_nova(settings: dict[str, Any]) -> AsyncIterator[LiveNova]:
    with tempfile.TemporaryDirectory() as data_dir:
        async with live_nova("embedded", Path(data_dir), **settings) as live:
            yield live


# -- report -----------------------------------------------------------------------------


def _get(figures: dict[str, Any], path: str) -> Any:
    value: Any = figures
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return "-".join(_fmt(v) for v in value)
    return str(value)


def _cell(figures: dict[str, Any] | None, template: str) -> str:
    """`template` names figures in braces: "{ratio.ratio} ({ratio.ratio_range})"."""
    if figures is None:
        return "not run"
    return re.sub(r"\{([^}]+)\}", lambda m: _fmt(_get(figures, m.group(1))), template)


# fmt: off
ROWS: list[tuple[str, str, str]] = [
    ("5,000-token answer, through ÷ direct", "{ratio.ratio} ({ratio.ratio_range})", "≥ 0.85"),
    ("  tokens/s: direct / through Nova", "{ratio.direct_tokens_per_s} / {ratio.nova_tokens_per_s}", ""),
    ("CPU µs per streamed token: total", "{ratio.cpu_us_per_token.total}", "≤ 40"),
    ("  web / worker / Redis", "{ratio.cpu_us_per_token.web} / {ratio.cpu_us_per_token.worker} / "
     "{ratio.cpu_us_per_token.redis}", ""),
    ("  (the scripted provider, not Nova)", "{ratio.cpu_us_per_token.provider}", ""),
    ("Events per 5,000-token answer (run stream)", "{wire.events_per_answer} ({wire.events_range})", "≤ 300"),
    ("  message.delta events / bytes", "{wire.delta_events_per_answer} / {wire.event_stream_bytes}", ""),
    ("  /v1 stream: chunks / bytes", "{wire.v1_chunks_per_answer} / {wire.v1_bytes}", ""),
    ("Added first-token latency p50 / p95, ms", "{first_token.added_p50_ms} / {first_token.added_p95_ms}",
     "≤ 10 (p50)"),
    ("{concurrency} x 500 tok at 100 tok/s: p95 ÷ single", "{paced.nova.p95_over_single} (direct "
     "{paced.direct.p95_over_single})", "≤ direct + 0.05"),
    ("  exact / runs, Nova", "{paced.nova.exact} / {paced.nova.runs}", "all"),
    ("{lean} x 200 tok at 20 tok/s, lean client: exact", "{lean.exact} / {lean.runs}", "all"),
    ("  p95 ÷ single", "{lean.p95_over_single} ({lean.p95_s} s ÷ {lean.single_s} s)", "≤ 1.2"),
    ("{idle} idle SSE connections: held", "{idle.held} / {idle.connections} (opened in {idle.open_all_s} s)",
     "all"),
    ("  every heartbeat on time (connections)", "{idle.connections_every_heartbeat_on_time} (max gap "
     "{idle.max_heartbeat_gap_s} s)", "all"),
    ("  web RSS growth, MB", "{idle.web_rss_growth_mb} ({idle.web_rss_before_mb} → {idle.web_rss_peak_mb})",
     "≤ 100"),
    ("  web CPU share while held", "{idle.web_cpu_share_while_held}", ""),
    ("Idle RSS after start, MB: web / worker", "{idle_rss.web_mb} / {idle_rss.worker_mb}", "≤ 90 / ≤ 180"),
    ("nova serve → /healthz 200, s", "{serve.serve_to_healthz_s} ({serve.serve_to_healthz_range_s})", "≤ 1.5"),
]
# fmt: on


def report(results: dict[str, Any], plan: Plan) -> None:
    counts = {"concurrency": plan.concurrency, "lean": plan.lean, "idle": plan.idle}
    rows = [("figure", "scaled", "embedded", "target")]
    for label, template, target in ROWS:
        label = label.format(**{k: f"{v:,}" for k, v in counts.items()})
        rows.append((label, _cell(results.get("scaled"), template), _cell(results.get("embedded"), template), target))
    install = results["install"]
    rows.append(("Runtime install (venv without dev tools), MB", f"{install['runtime_install_mb']}",
                 f"(all of .venv: {install['venv_installed_mb']})", "≤ 350"))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print()
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    for setup in ("scaled", "embedded"):
        problems = (results.get(setup) or {}).get("log_problems")
        for process, found in (problems or {}).items():
            print(f"{setup} {process} logged {found['count']} warnings/errors, first: {found['first']}")
            if found["cause"]:
                print(f"    ending in: {found['cause']}")
    print(json.dumps(results, separators=(",", ":")))


# -- main -------------------------------------------------------------------------------


def raise_file_limit() -> int:
    """As many open files as allowed, for this process and the Nova processes it starts."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def machine() -> dict[str, Any]:
    model = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["both", "scaled", "embedded"], default="both")
    parser.add_argument("--concurrency", type=int, help="paced runs at once (default 50; --quick 10)")
    parser.add_argument("--lean", type=int, help="lean-client runs at once (default 200; --quick 20)")
    parser.add_argument("--idle", type=int, help="idle SSE connections, 0 to skip (default 2000; --quick 100)")
    parser.add_argument("--workers", type=int, default=1, help="nova worker processes (scaled)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    args = parser.parse_args()
    quick = args.quick
    plan = Plan(
        reps=1 if quick else 3,
        first_runs=10 if quick else 50,
        serve_repeat=1 if quick else 3,
        concurrency=args.concurrency if args.concurrency is not None else (10 if quick else 50),
        lean=args.lean if args.lean is not None else (20 if quick else 200),
        idle=args.idle if args.idle is not None else (100 if quick else 2000),
        heartbeats=1 if quick else 2,
    )
    files = raise_file_limit()
    cap = max(plan.concurrency, plan.lean, 16) + 4
    settings = {
        "NOVA_RUN_CONCURRENCY": str(cap),
        "NOVA_MAX_ACTIVE_RUNS_PER_USER": str(cap),  # one bench user runs them all
        "NOVA_RUN_STARTS_PER_WINDOW": "100000",  # ...and starts far more than a person would
        "NOVA_API_REQUESTS_PER_WINDOW": "1000000",  # ...and opens thousands of streams with one token
        "NOVA_API_USER_REQUESTS_PER_WINDOW": "1000000",
        "NOVA_RUN_TIMEOUT_SECONDS": "600",
    }
    results: dict[str, Any] = {"machine": machine() | {"open_files_limit": files}, "plan": asdict(plan)}

    port = free_port()
    provider = subprocess.Popen([sys.executable, "-m", "tests.fixtures.llm_server", str(port)], cwd=ROOT)
    provider_url = f"http://127.0.0.1:{port}/v1"
    try:
        if args.mode in ("both", "scaled"):
            async with scaled_nova(settings, args.workers) as (live, redis_url):
                results["scaled"] = await measure(live, provider, provider_url, redis_url, plan)
                results["scaled"]["workers"] = args.workers
        if args.mode in ("both", "embedded"):
            async with embedded_nova(settings) as live:
                results["embedded"] = await measure(live, provider, provider_url, None, plan)
    finally:
        provider.terminate()
        provider.wait()
    results["install"] = footprint.install_figures()
    report(results, plan)


if __name__ == "__main__":
    asyncio.run(main())
