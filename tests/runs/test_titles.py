"""Generated thread titles (app/runs/titles.py) against the scripted provider: made after the
first reply's end, cleaned and capped, never over a title the user chose, failures ignored."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from sqlalchemy import select

from app.models import Run, RunStatus, Thread
from app.runs import titles
from app.threads import service as threads
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Client, Nova, submit
from tests.fixtures.runs import finished_run
from tests.runs.test_views import frames

QUESTION = "What is the capital of France?\nAnd why there?"
FIRST_LINE = "What is the capital of France?"


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ('"Capital of France"', "Capital of France"),
        ("Title: “Paris, the capital”.\nBecause it is.", "Paris, the capital"),
        ("<think>The user asks about\nParis.</think>\n\n**Paris as capital**", "Paris as capital"),
        ("one two three four five six seven eight nine ten", "one two three four five six seven eight"),
        ("Why is the sky blue?", "Why is the sky blue?"),
        ("Don't panic: a guide", "Don't panic: a guide"),
        ("x" * 500, "x" * 199 + "…"),
        ('  ""  \n', None),
        ("<think>only thinking, cut off", None),
    ],
)
def test_the_models_answer_is_cleaned_into_a_title(raw: str, title: str | None) -> None:
    assert titles.clean(raw) == title


def test_the_cap_is_the_title_columns_length() -> None:
    assert Thread.__table__.c.title.type.length == titles.MAX_CHARS  # type: ignore[attr-defined]


async def new_thread(nova: Nova, llm: ScriptedLLM) -> tuple[Client, Thread]:
    """A user with an agent, logged in, and a thread as "New thread" makes it (its default title)."""
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with nova.ctx.db.transaction() as session:
        thread = await threads.create_thread(session, user.id)
    return await nova.login("ada@example.com"), thread


async def post(nova: Nova, client: Client, thread: Thread, content: str) -> uuid.UUID:
    response = await submit(client, f"/threads/{thread.id}/messages", {"content": content})
    assert response.status_code == 303, response.text
    async with nova.ctx.db.transaction() as session:
        run_id = await session.scalar(
            select(Run.id).where(Run.thread_id == thread.id).order_by(Run.created_at.desc()).limit(1)
        )
    assert run_id is not None
    return run_id


async def title_of(nova: Nova, thread: Thread) -> str:
    async with nova.ctx.db.transaction() as session:
        found = await session.get(Thread, thread.id)
    assert found is not None
    return found.title


async def job_done(nova: Nova, run_id: uuid.UUID, within: float = 10) -> None:
    """The run's job (reply, then title) is over: the in-process queue let go of it."""
    deadline = time.monotonic() + within
    while run_id in nova.ctx.jobs._tasks:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the run's job is still going"
        await asyncio.sleep(0.05)


async def reply_ended(nova: Nova, run_id: uuid.UUID) -> None:
    """Until the run's final event is in its log."""
    async with asyncio.timeout(10):
        async for event in nova.ctx.events.follow(str(run_id)):
            if event.terminal:
                return


async def test_the_first_reply_names_the_thread_after_its_end(nova: Nova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Paris, since the tenth century."))
    # Slow, long and decorated: the reply's end must not wait for it, and it is trimmed.
    llm.queue_title(
        ScriptedReply(text='Title: "The capital of France, in a few words and more"', first_token_delay=1.0)
    )
    client, thread = await new_thread(nova, llm)
    run_id = await post(nova, client, thread, QUESTION)
    await reply_ended(nova, run_id)
    assert await title_of(nova, thread) == FIRST_LINE  # the reply ended first

    assert await titles.wait_for_title(nova.ctx, run_id, within=10) == "The capital of France, in a few words"
    assert await title_of(nova, thread) == "The capital of France, in a few words"
    [asked] = llm.title_requests
    assert asked["model"] == "scripted-small"  # the agent's provider and model
    sent = " ".join(str(m["content"]) for m in asked["messages"])
    assert QUESTION in sent and "Paris, since the tenth century." in sent
    assert len(llm.requests) == 1  # the agent's own request only


async def test_the_page_gets_the_title_after_the_first_reply_only(nova: Nova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="First answer."), ScriptedReply(text="Second answer."))
    llm.queue_title(ScriptedReply(text="A generated title"), ScriptedReply(text="Never asked for"))
    client, thread = await new_thread(nova, llm)
    first = await post(nova, client, thread, QUESTION)
    await finished_run(nova, first)
    await job_done(nova, first)
    second = await post(nova, client, thread, "And Germany?")
    await finished_run(nova, second)
    await job_done(nova, second)

    done_first = frames((await client.get(f"/threads/{thread.id}/runs/{first}/stream?after=0")).text)[-1]
    done_second = frames((await client.get(f"/threads/{thread.id}/runs/{second}/stream?after=0")).text)[-1]
    titled = await client.get(f"/threads/{thread.id}/runs/{first}/title")
    untitled = await client.get(f"/threads/{thread.id}/runs/{second}/title")
    assert done_first[0] == "done" and f'/threads/{thread.id}/runs/{first}/title" hx-trigger="load"' in done_first[1]
    assert done_second[0] == "done" and "/title" not in done_second[1]
    assert titled.status_code == 200
    assert "<title>A generated title · Nova</title>" in titled.text
    assert 'id="thread-title"' in titled.text and 'value="A generated title"' in titled.text
    assert 'id="sidebar"' in titled.text and ">A generated title</a>" in titled.text
    assert titled.text.count('hx-swap-oob="true"') == 2
    assert untitled.status_code == 200 and untitled.text == ""
    assert len(llm.title_requests) == 1
    assert await title_of(nova, thread) == "A generated title"


async def test_a_title_the_user_chose_is_kept(nova: Nova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Paris."))
    llm.queue_title(ScriptedReply(text="Never asked for"))
    client, thread = await new_thread(nova, llm)
    await submit(client, f"/threads/{thread.id}/rename", {"title": "My own name"})
    run_id = await post(nova, client, thread, QUESTION)
    assert (await finished_run(nova, run_id)).status is RunStatus.COMPLETED
    await job_done(nova, run_id)
    assert llm.title_requests == []
    assert await title_of(nova, thread) == "My own name"


async def test_a_rename_while_the_title_is_written_wins(nova: Nova, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Paris."))
    llm.queue_title(ScriptedReply(text="Too late", first_token_delay=1.0))
    client, thread = await new_thread(nova, llm)
    run_id = await post(nova, client, thread, QUESTION)
    await reply_ended(nova, run_id)
    await submit(client, f"/threads/{thread.id}/rename", {"title": "Renamed meanwhile"})
    assert await titles.wait_for_title(nova.ctx, run_id, within=10) is None  # the page is told: none
    assert len(llm.title_requests) == 1
    assert await title_of(nova, thread) == "Renamed meanwhile"


async def test_a_failing_provider_leaves_the_title_and_the_reply(
    nova: Nova, llm: ScriptedLLM, caplog: pytest.LogCaptureFixture
) -> None:
    llm.queue(ScriptedReply(text="Paris."))  # no title queued: the title request gets HTTP 503
    client, thread = await new_thread(nova, llm)
    with caplog.at_level(logging.WARNING, logger="app.runs.titles"):
        run_id = await post(nova, client, thread, QUESTION)
        assert await titles.wait_for_title(nova.ctx, run_id, within=10) is None
    run = await finished_run(nova, run_id)
    assert run.status is RunStatus.COMPLETED and run.error is None
    assert len(llm.title_requests) == 1
    assert await title_of(nova, thread) == FIRST_LINE
    assert "The provider failed with HTTP 503." in caplog.text


async def test_a_slow_provider_is_given_up_on(
    nova: Nova, llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(titles, "GENERATE_SECONDS", 0.3)
    llm.queue(ScriptedReply(text="Paris."))
    llm.queue_title(ScriptedReply(text="Too slow", first_token_delay=3.0))
    client, thread = await new_thread(nova, llm)
    with caplog.at_level(logging.WARNING, logger="app.runs.titles"):
        run_id = await post(nova, client, thread, QUESTION)
        started = time.monotonic()
        assert await titles.wait_for_title(nova.ctx, run_id, within=10) is None
    assert time.monotonic() - started < 2.5  # the worker gave up: the page was not left waiting
    assert await title_of(nova, thread) == FIRST_LINE
    assert "no answer within 0.3 s" in caplog.text
