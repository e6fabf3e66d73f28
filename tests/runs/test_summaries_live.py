"""Summaries of earlier messages in real runs against the scripted provider: a thread longer
than the model's window is summarized once, the summary is kept, reused and extended, belongs
to its branch, and a summary the model cannot make leaves plain trimming."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.agents.history import SUMMARY_HEADING
from app.events import EventType
from app.models import Message, MessageRole, Thread, ThreadSummary
from app.providers.service import ProviderInput, create_provider
from app.runs import control, summaries
from app.threads import branches, service
from app.threads import repository as threads_repository
from tests.fixtures.factories import add_message, make_agent, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova
from tests.fixtures.runs import finished_run

WINDOW = 2048  # 14 questions of 400 characters and their answers fit it; a 15th does not


@pytest.fixture
def scripted(llm: ScriptedLLM) -> Iterator[ScriptedLLM]:
    llm.summaries.clear()
    llm.summary_requests.clear()
    yield llm
    llm.summaries.clear()
    llm.summary_requests.clear()


def question(n: int) -> str:
    return f"question {n}: " + "q" * 400


async def long_thread(nova: Nova, llm: ScriptedLLM, exchanges: int = 14) -> tuple[uuid.UUID, Thread]:
    """A user whose agent's provider has a WINDOW-token context, and a thread of `exchanges`."""
    user = await nova.create_user("ada@example.com")
    data = ProviderInput("Small", "openai_compatible", llm.base_url, "sk-test", "scripted-small", str(WINDOW))
    async with nova.ctx.db.transaction() as session:
        provider = await create_provider(session, nova.ctx.secretbox, user.id, data)
    await make_agent(nova, user.id, provider)
    thread = await make_thread(nova, user.id, "Long")
    await add_exchanges(nova, thread, 0, exchanges)
    return user.id, thread


async def add_exchanges(nova: Nova, thread: Thread, first: int, count: int) -> None:
    for n in range(first, first + count):
        await add_message(nova, thread, MessageRole.USER, question(n))
        await add_message(nova, thread, MessageRole.ASSISTANT, f"answer {n}")


async def ask(nova: Nova, user_id: uuid.UUID, thread_id: uuid.UUID, text: str) -> uuid.UUID:
    async with nova.ctx.db.transaction() as session:
        posted = await service.post_message(session, nova.ctx.settings, user_id, thread_id, text, None)
    await control.start(nova.ctx, posted.run)
    ended = await finished_run(nova, posted.run.id)
    assert ended.status.value == "completed", ended.error
    return posted.run.id


def sent(llm: ScriptedLLM) -> tuple[str, list[str]]:
    """The last agent request: its system message, and the turns after it."""
    messages: list[dict[str, Any]] = llm.requests[-1]["messages"]
    system = [str(m["content"]) for m in messages if m["role"] == "system"]
    assert len(system) <= 1 and (not system or messages[0]["role"] == "system")
    return (system[0] if system else ""), [str(m["content"]) for m in messages if m["role"] != "system"]


async def stored(nova: Nova, thread_id: uuid.UUID) -> list[tuple[str, int, str]]:
    """(text, message count, content of the last message covered), oldest first."""
    async with nova.ctx.db.transaction() as session:
        rows = await session.execute(
            select(ThreadSummary.text, ThreadSummary.message_count, Message.content)
            .join(Message, Message.id == ThreadSummary.covers_message_id)
            .where(ThreadSummary.thread_id == thread_id)
            .order_by(ThreadSummary.message_count)
        )
        return [(text, count, content) for text, count, content in rows]


async def test_a_long_thread_is_summarized_once_then_reused_and_extended(nova: Nova, scripted: ScriptedLLM) -> None:
    user_id, thread = await long_thread(nova, scripted)
    scripted.queue_summary(ScriptedReply(text="SUMMARY-ONE: ten questions so far."))
    run_id = await ask(nova, user_id, thread.id, question(14))

    [asked] = scripted.summary_requests
    prompt = asked["messages"][1]["content"]
    assert "Summary so far" not in prompt and question(0) in prompt
    system, turns = sent(scripted)
    assert system.startswith("Be brief.") and SUMMARY_HEADING in system and "SUMMARY-ONE" in system
    assert turns[0].startswith("question ") and turns[-1] == question(14)
    assert question(0) not in turns and turns[0] not in prompt  # the kept turns are not in the summary
    [(text, count, last)] = await stored(nova, thread.id)
    assert text == "SUMMARY-ONE: ten questions so far."
    assert count == 2 * 14 + 1 - len(turns) and last == f"answer {int(turns[0].split()[1][:-1]) - 1}"
    events = await nova.ctx.events.read_after(str(run_id), 0)
    [step] = [e.data for e in events if e.type == EventType.MODEL_FINISHED and e.data.get("purpose") == "summary"]
    assert step["model"] == "scripted-small" and step["messages"] == count

    # The next run starts from it: no new summary while the turns after it fit.
    kept_from = turns[0]
    await ask(nova, user_id, thread.id, question(15))
    assert len(scripted.summary_requests) == 1
    system, turns = sent(scripted)
    assert "SUMMARY-ONE" in system and turns[0] == kept_from and turns[-1] == question(15)
    assert len(await stored(nova, thread.id)) == 1

    # More falls out of the window: the summary so far and the newly dropped turns make the next.
    await add_exchanges(nova, thread, 16, 8)
    scripted.queue_summary(ScriptedReply(text="SUMMARY-TWO: twenty questions."))
    await ask(nova, user_id, thread.id, question(24))
    assert len(scripted.summary_requests) == 2
    prompt = scripted.summary_requests[1]["messages"][1]["content"]
    assert prompt.startswith("Summary so far:\nSUMMARY-ONE: ten questions so far.")
    assert kept_from in prompt and question(0) not in prompt
    system, turns = sent(scripted)
    assert "SUMMARY-TWO" in system and "SUMMARY-ONE" not in system and kept_from not in turns
    assert [text for text, _, _ in await stored(nova, thread.id)] == [
        "SUMMARY-ONE: ten questions so far.",
        "SUMMARY-TWO: twenty questions.",
    ]


async def test_the_thread_page_shows_the_summary_after_the_last_message_it_covers(
    nova: Nova, scripted: ScriptedLLM
) -> None:
    user_id, thread = await long_thread(nova, scripted)
    scripted.queue_summary(ScriptedReply(text="The user asks *many* questions.<script>alert(1)</script>"))
    run_id = await ask(nova, user_id, thread.id, question(14))
    async with nova.ctx.db.transaction() as session:
        summary = await session.scalar(select(ThreadSummary))
    assert summary is not None
    async with await nova.login("ada@example.com") as client:
        page = (await client.get(f"/threads/{thread.id}")).text
        trace = (await client.get(f"/threads/{thread.id}/runs/{run_id}/trace", headers={"HX-Request": "true"})).text
    assert trace.count("Model call") == 2 and "Model call (summary of earlier messages)" in trace
    covered = page.index(f'id="message-{summary.covers_message_id}"')
    details = page.index('<details class="context-summary"')
    following = page.index('<article class="message', covered + 1)
    assert covered < details < following and page.count("context-summary-note") == 1
    assert "Summary of earlier messages" in page and f"{summary.message_count} messages" in page
    assert "<em>many</em>" in page and "<script>alert" not in page  # the replies' Markdown sanitizer


async def test_a_summary_belongs_to_the_branch_it_summarizes(nova: Nova, scripted: ScriptedLLM) -> None:
    user_id, thread = await long_thread(nova, scripted)
    scripted.queue_summary(ScriptedReply(text="SUMMARY-ONE"))
    await ask(nova, user_id, thread.id, question(14))
    async with nova.ctx.db.transaction() as session:
        last_id = (await session.get(Thread, thread.id)).current_message_id  # type: ignore[union-attr]
        second = await session.scalar(select(Message).where(Message.content == question(1)))
        assert second is not None and last_id is not None
        edited = await branches.edit(session, nova.ctx.settings, user_id, thread.id, second.id, "question 1, edited")
    await control.start(nova.ctx, edited.run)
    assert (await finished_run(nova, edited.run.id)).status.value == "completed"
    system, turns = sent(scripted)
    assert SUMMARY_HEADING not in system and turns == [question(0), "answer 0", "question 1, edited"]
    async with nova.ctx.db.transaction() as session:
        edited_thread = await session.get(Thread, thread.id)
        assert edited_thread is not None and await summaries.shown(session, edited_thread) is None

    async with nova.ctx.db.transaction() as session:
        row = await session.scalar(select(ThreadSummary))
        assert row is not None
        path = [m.id for m in await threads_repository.branch(session, last_id)]
        ends = path.index(row.covers_message_id) + 1
        found = await summaries.for_history(session, thread.id, path[: ends + 1])
        assert found == summaries.StoredSummary("SUMMARY-ONE", ends) and ends == row.message_count
        # Never the message being answered itself: that one is sent as written.
        assert await summaries.for_history(session, thread.id, path[:ends]) is None

    async with nova.ctx.db.transaction() as session:  # back on the first branch, it is used again
        back = await branches.select(session, user_id, thread.id, last_id)
        assert (shown := await summaries.shown(session, back)) is not None and shown.text == "SUMMARY-ONE"
    await ask(nova, user_id, thread.id, question(15))
    system, _ = sent(scripted)
    assert "SUMMARY-ONE" in system and len(scripted.summary_requests) == 1


async def test_a_summary_the_model_cannot_make_leaves_the_oldest_turns_out(nova: Nova, scripted: ScriptedLLM) -> None:
    user_id, thread = await long_thread(nova, scripted)
    # No summary queued: the scripted provider answers 503 to it, and the reply goes on.
    await ask(nova, user_id, thread.id, question(14))
    assert len(scripted.summary_requests) == 1 and await stored(nova, thread.id) == []
    system, turns = sent(scripted)
    assert system == "Be brief." and turns[0].startswith("question ") and turns[-1] == question(14)
    assert question(0) not in turns and len(turns) < 29


async def test_summaries_can_be_turned_off(database_url: str, tmp_path: Any, scripted: ScriptedLLM) -> None:
    from tests.fixtures.nova import nova_settings, open_nova

    async with open_nova(nova_settings(database_url, tmp_path, NOVA_SUMMARY_TIMEOUT_SECONDS="0")) as nova:
        user_id, thread = await long_thread(nova, scripted)
        await ask(nova, user_id, thread.id, question(14))
    assert scripted.summary_requests == []
    assert question(0) not in sent(scripted)[1]
