"""Streaming benchmark: Nova (web + arq worker, Redis, PostgreSQL) vs the provider direct.

Starts a scripted OpenAI-compatible provider, Redis, a fresh PostgreSQL database, `nova
serve` and `nova worker`, then measures with the official openai client:

  (a) throughput of a 5,000-token answer through /v1/chat/completions, as a fraction of
      the same client reading the provider directly (target >= 0.90);
  (b) time to first token added by Nova over 50 runs, p50/p95 (target p50 <= 15 ms);
  (c) N concurrent runs of 500 tokens at 100 tokens/s: completed, lost or duplicated
      tokens, and p95 completion time / single-run time (target: all, 0, <= 1.5).

Run: .venv/bin/python bench/stream.py [--concurrency 200] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openai import AsyncOpenAI  # noqa: E402

from tests.fixtures.live import LiveNova, live_nova  # noqa: E402
from tests.fixtures.postgres import fresh_database, postgres_server  # noqa: E402
from tests.fixtures.redis import RedisServer  # noqa: E402
from tests.fixtures.server import free_port  # noqa: E402

LONG = "tokens=5000"
SHORT = "tokens=5"
PACED = "tokens=500,rate=100"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def stream_text(client: AsyncOpenAI, model: str) -> tuple[str, float, float]:
    """(text, seconds to first token, seconds total) for one streamed completion."""
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


def expected(model: str) -> str:
    count = int(model.split(",")[0].split("=")[1])
    return " ".join(f"t{n}" for n in range(count))


async def seed_agents(live: LiveNova, provider_url: str) -> None:
    from sqlalchemy import select

    from app.agent_configs import service as agent_configs
    from app.models import Provider

    await live.seed(provider_url)
    async with live.db.transaction() as session:
        provider = await session.scalar(select(Provider))
        assert provider is not None
        for model in (LONG, SHORT, PACED):
            name = model.replace("=", "-").replace(",", "-")
            data = agent_configs.AgentInput(name, "", str(provider.id), model, "0", "25", False)
            await agent_configs.create_agent(session, live.user_id, data)


async def measure(live: LiveNova, provider_url: str, concurrency: int) -> None:
    direct = AsyncOpenAI(base_url=provider_url, api_key="x", max_retries=0)
    nova = AsyncOpenAI(base_url=live.url + "/v1", api_key=live.token, max_retries=0, timeout=600)
    slug = {m: m.replace("=", "-").replace(",", "-") for m in (LONG, SHORT, PACED)}

    await stream_text(direct, LONG)  # warm up both paths
    await stream_text(nova, slug[SHORT])

    direct_runs = [await stream_text(direct, LONG) for _ in range(3)]
    nova_runs = [await stream_text(nova, slug[LONG]) for _ in range(3)]
    assert all(text == expected(LONG) for text, _f, _t in direct_runs + nova_runs)
    direct_tps = 5000 / statistics.median(t for _x, _f, t in direct_runs)
    nova_tps = 5000 / statistics.median(t for _x, _f, t in nova_runs)
    print(
        f"(a) 5000-token answer: provider direct {direct_tps:,.0f} tok/s, through Nova "
        f"{nova_tps:,.0f} tok/s, ratio {nova_tps / direct_tps:.2f} (target >= 0.90)"
    )

    direct_first = [(await stream_text(direct, SHORT))[1] for _ in range(50)]
    nova_first = [(await stream_text(nova, slug[SHORT]))[1] for _ in range(50)]
    added = [n - statistics.median(direct_first) for n in nova_first]
    print(
        f"(b) time to first token over 50 runs: direct p50 {statistics.median(direct_first) * 1000:.1f} ms; "
        f"added by Nova p50 {percentile(added, 0.5) * 1000:.1f} ms, p95 {percentile(added, 0.95) * 1000:.1f} ms "
        f"(target p50 <= 15 ms)"
    )

    single = (await stream_text(nova, slug[PACED]))[2]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(stream_text(nova, slug[PACED]) for _ in range(concurrency)), return_exceptions=True
    )
    wall = time.perf_counter() - started
    ok = [r for r in results if isinstance(r, tuple)]
    errors = [r for r in results if not isinstance(r, tuple)]
    want = expected(PACED).split(" ")
    lost = sum(max(0, len(want) - len(text.split(" "))) for text, _f, _t in ok)
    duplicated = sum(max(0, len(text.split(" ")) - len(want)) for text, _f, _t in ok)
    exact = sum(1 for text, _f, _t in ok if text == expected(PACED))
    p95 = percentile([t for _x, _f, t in ok], 0.95) if ok else float("nan")
    print(
        f"(c) {concurrency} concurrent runs of 500 tokens at 100 tok/s: {len(ok)} completed "
        f"({exact} exact), {len(errors)} errors, lost tokens {lost}, duplicated tokens {duplicated}; "
        f"single run {single:.2f} s, p95 {p95:.2f} s, ratio {p95 / single:.2f} (target <= 1.5); "
        f"wall {wall:.1f} s"
    )
    if errors:
        print("    first error:", repr(errors[0])[:300])
    await direct.close()
    await nova.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    port = free_port()
    provider = subprocess.Popen([sys.executable, "-m", "tests.fixtures.llm_server", str(port)], cwd=ROOT)
    provider_url = f"http://127.0.0.1:{port}/v1"
    redis_server = RedisServer().start()
    try:
        with postgres_server() as server, fresh_database(server) as database_url:
            with tempfile.TemporaryDirectory() as data_dir:
                settings = {
                    "NOVA_RUN_CONCURRENCY": str(max(args.concurrency, 16)),
                    "NOVA_RUN_TIMEOUT_SECONDS": "600",
                }
                async with live_nova(
                    "scaled",
                    Path(data_dir),
                    postgres_url=database_url,
                    redis_url=redis_server.url,
                    workers=args.workers,
                    **settings,
                ) as live:
                    await seed_agents(live, provider_url)
                    print(
                        f"Nova {live.url}: web + {args.workers} worker(s), Redis, PostgreSQL; "
                        f"{os.cpu_count()} CPU cores"
                    )
                    await measure(live, provider_url, args.concurrency)
    finally:
        redis_server.cleanup()
        provider.terminate()
        provider.wait()


if __name__ == "__main__":
    asyncio.run(main())
