"""The numbers under each finished reply: tokens, time to first token, tokens/s and a link to
its trace, on the thread page (one query for all replies) and in the live reply's last frame."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from app.db import utcnow
from app.models import Run
from app.runs.stats import stats
from tests.fixtures.factories import make_agent, make_finished_run, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, tokens_of
from tests.fixtures.nova import Nova, submit
from tests.fixtures.runs import finished_run
from tests.runs.test_views import frames

STATS = re.compile(r'<p class="message-stats">.*?</p>', re.DOTALL)


def test_stats_from_a_runs_times_and_tokens() -> None:
    start = utcnow()
    shown = stats(12, 340, start, start + timedelta(seconds=0.5), start + timedelta(seconds=4.5))
    assert (shown.tokens, shown.first_token, shown.speed) == ("12 → 340", "0.50 s", "85.0")
    slow = stats(1200, 5, start, start + timedelta(seconds=42), start + timedelta(seconds=42))
    assert (slow.tokens, slow.first_token, slow.speed) == ("1,200 → 5", "42 s", "—")  # one chunk: no pace


def test_what_the_provider_did_not_report_is_a_dash() -> None:
    start = utcnow()
    no_usage = stats(None, None, start, start + timedelta(seconds=1), start + timedelta(seconds=2))
    assert (no_usage.tokens, no_usage.first_token, no_usage.speed) == ("—", "1.00 s", "—")
    no_token = stats(None, None, start, None, start + timedelta(seconds=2))
    assert (no_token.first_token, no_token.speed) == ("—", "—")
    clock_skew = stats(3, 4, start, start - timedelta(seconds=1), start)
    assert clock_skew.first_token == "—"


async def test_a_finished_reply_shows_its_stats_on_the_page_and_in_the_stream(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    text = " ".join(f"word{n}" for n in range(30))
    llm.queue(ScriptedReply(text=text, tokens_per_second=100, first_token_delay=0.2))
    async with await nova.login("ada@example.com") as client:
        await submit(client, f"/threads/{thread.id}/messages", {"content": "Count for me"})
        async with nova.ctx.db.transaction() as session:
            run_id = await session.scalar(select(Run.id).where(Run.thread_id == thread.id))
        assert run_id is not None
        run = await finished_run(nova, run_id)
        page = await client.get(f"/threads/{thread.id}")
        stream = await client.get(f"/threads/{thread.id}/runs/{run_id}/stream", params={"after": "0"})
    assert run.prompt_tokens == 10 and run.completion_tokens == len(tokens_of(text))
    [on_page] = STATS.findall(page.text)
    name, done = frames(stream.text)[-1]
    assert name == "done" and STATS.findall(done) == [on_page]
    assert f"10 → {len(tokens_of(text))} tokens" in on_page
    first_token = re.search(r"([\d.]+) s to first token", on_page)
    assert first_token and 0.2 <= float(first_token.group(1)) < 5
    speed = re.search(r"([\d.]+) tokens/s", on_page)
    assert speed and 5 < float(speed.group(1)) < 1000  # 30 tokens written at about 100 a second
    assert f'/threads/{thread.id}/runs/{run_id}/trace">Trace</a>' in on_page


async def test_a_reply_without_usage_shows_dashes(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    await make_finished_run(nova, thread, agent)  # no tokens, no first token
    async with await nova.login("ada@example.com") as client:
        page = await client.get(f"/threads/{thread.id}")
    [shown] = STATS.findall(page.text)
    assert "— tokens" in shown and "— to first token" in shown and "— tokens/s" in shown


@contextmanager
def queries_on_runs(nova: Nova) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if re.search(r"\bFROM runs\b", statement):
            seen.append(statement)

    engine = nova.ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_page_reads_every_replys_stats_in_one_query(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    one, many = await make_thread(nova, user.id, "One"), await make_thread(nova, user.id, "Many")
    await make_finished_run(nova, one, agent)
    for n in range(4):
        await make_finished_run(nova, many, agent, reply=f"Reply {n}")
    async with await nova.login("ada@example.com") as client:
        with queries_on_runs(nova) as for_one:
            assert (await client.get(f"/threads/{one.id}")).status_code == 200
        with queries_on_runs(nova) as for_many:
            page = await client.get(f"/threads/{many.id}")
    assert len(STATS.findall(page.text)) == 4
    assert for_one and len(for_many) == len(for_one)  # not one more per reply
