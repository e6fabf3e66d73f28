"""Thread page benchmark: how fast `nova serve` opens a thread of 2,000 messages.

Starts the scripted provider (in this process) and an embedded `nova serve` (SQLite), and
lets one real run answer in a new thread: a question and a markdown reply (a paragraph, a
list, inline code and a code block). That exchange is then copied by direct inserts with
the app's models, as the app stores it (the user's message; the completed run with its
times, usage and trace; the assistant's reply pointing at the run), until the thread
holds --messages messages, alternating user and assistant, a minute apart.

Then, logged in as the thread's owner, GETs /threads/{id} --repeat times after a warm-up:
server time is each request's wall time over loopback (median, range), with the web
process's CPU time per request beside it, and the size of the page's HTML and how many
messages it shows. Prints a table and one JSON line.

Run: .venv/bin/python bench/thread_page.py [--messages 2000] [--repeat 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.models import FinishReason, Message, MessageRole, Run, RunStatus  # noqa: E402
from bench.footprint import cpu_seconds  # noqa: E402
from tests.fixtures.live import LiveNova, live_nova  # noqa: E402
from tests.fixtures.llm_server import ScriptedLLM, ScriptedLLMServer, ScriptedReply  # noqa: E402
from tests.fixtures.nova import PASSWORD, submit  # noqa: E402
from tests.fixtures.server import _drain  # noqa: E402

QUESTION = "How do I keep a long-running Python service from leaking memory when it streams to many clients?"
REPLY = """Keep **per-connection state small** and let it go as soon as the client leaves:

1. Bound every queue a connection owns, and drop or coalesce when it is full.
2. Close the response when the client disconnects, so its buffers are freed.
3. Share what all connections read (one subscription per process, not one each).

Measure before changing anything: `tracemalloc` snapshots taken a minute apart show
which lines allocate what stays.

```python
import tracemalloc
tracemalloc.start()
before = tracemalloc.take_snapshot()
```

Then compare the two snapshots and look at the top ten lines."""


async def seed_thread(live: LiveNova, llm: ScriptedLLM, messages: int) -> str:
    """A thread with `messages` messages: one real exchange, copied by direct inserts."""
    await live.seed(llm.base_url)
    llm.queue(ScriptedReply(text=REPLY, tokens_per_second=2000))
    thread_id = await live.new_thread()
    posted = await live.post(thread_id, QUESTION)
    run = await live.wait_terminal(posted["run_id"])
    assert run["status"] == "completed", run
    async with live.db.transaction() as session:
        model_run = await session.get(Run, uuid.UUID(posted["run_id"]))
        assert model_run is not None
        query = select(Message).where(Message.thread_id == uuid.UUID(thread_id)).order_by(Message.created_at)
        question, answer = (await session.scalars(query)).all()
        assert answer.content == REPLY and answer.run_id == model_run.id
        first = question.created_at - timedelta(minutes=messages)
        for n in range(messages // 2 - 1):
            at = first + timedelta(minutes=2 * n)
            copy = Run(
                id=uuid.uuid4(), owner_id=model_run.owner_id, thread_id=model_run.thread_id,
                agent_id=model_run.agent_id, status=RunStatus.COMPLETED, attempts=1, model=model_run.model,
                created_at=at, dispatched_at=at, started_at=at + timedelta(milliseconds=20),
                first_token_at=at + timedelta(milliseconds=300), finished_at=at + timedelta(seconds=3),
                trace=model_run.trace, prompt_tokens=model_run.prompt_tokens,
                completion_tokens=model_run.completion_tokens,
            )  # fmt: skip
            session.add(copy)
            session.add(Message(thread_id=question.thread_id, role=MessageRole.USER, content=question.content,
                                agent_id=question.agent_id, created_at=at))  # fmt: skip
            session.add(Message(thread_id=answer.thread_id, role=MessageRole.ASSISTANT, content=answer.content,
                                agent_id=answer.agent_id, run_id=copy.id, finish_reason=FinishReason.STOP,
                                created_at=at + timedelta(seconds=3)))  # fmt: skip
    return thread_id


async def measure(live: LiveNova, thread_id: str, repeat: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as browser:
        response = await submit(browser, "/login", {"email": live.email, "password": PASSWORD})
        assert response.status_code == 303, response.text
        url = f"/threads/{thread_id}"
        warm = await browser.get(url)
        assert warm.status_code == 200, warm.text[:500]
        seconds, cpu = [], []
        for _ in range(repeat):
            cpu_before, started = cpu_seconds(live.web_pid), time.perf_counter()
            page = await browser.get(url)
            seconds.append(time.perf_counter() - started)
            cpu.append(cpu_seconds(live.web_pid) - cpu_before)
            assert page.status_code == 200
    return {
        "server_ms": round(statistics.median(seconds) * 1000, 1),
        "server_range_ms": [round(min(seconds) * 1000, 1), round(max(seconds) * 1000, 1)],
        "web_cpu_ms_per_get": round(sum(cpu) / repeat * 1000, 1),
        "html_bytes": len(page.content),
        "messages_in_page": page.text.count('<article class="message message-'),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    server = ScriptedLLMServer()
    llm = server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with live_nova("embedded", Path(folder)) as live:
                started = time.perf_counter()
                thread_id = await seed_thread(live, llm, args.messages)
                seeded = time.perf_counter() - started
                figures = {"messages": args.messages, "repeat": args.repeat, "seed_s": round(seeded, 1)}
                figures |= await measure(live, thread_id, args.repeat)
                _drain(live.web)
    finally:
        server.stop()
    print(f"{'figure':<22} value")
    for name, value in figures.items():
        print(f"{name:<22} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
