"""Branching history: edits and regenerations keep the earlier versions as siblings, the branch
shown is what the page lists and what the next run sends, and deleting stays on its branch."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from app.errors import Conflict, ThreadBusy
from app.models import Message, MessageRole, Run, Thread
from app.runs import control
from app.threads import branches, service
from app.threads import repository as threads_repository
from tests.fixtures.factories import make_agent, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova
from tests.fixtures.runs import finished_run

pytestmark = pytest.mark.both_databases


async def _user_thread(nova: Nova, llm: ScriptedLLM) -> tuple[uuid.UUID, uuid.UUID]:
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id, "Branches")
    return user.id, thread.id


async def _answered(nova: Nova, run: Run) -> None:
    await control.start(nova.ctx, run)
    ended = await finished_run(nova, run.id)
    assert ended.status.value == "completed", ended.error


async def post(nova: Nova, user_id: uuid.UUID, thread_id: uuid.UUID, text: str) -> Message:
    async with nova.ctx.db.transaction() as session:
        posted = await service.post_message(session, nova.ctx.settings, user_id, thread_id, text, None)
    await _answered(nova, posted.run)
    return posted.message


async def shown(nova: Nova, thread_id: uuid.UUID) -> list[str]:
    async with nova.ctx.db.transaction() as session:
        thread = await session.get(Thread, thread_id)
        assert thread is not None
        return [m.content for m in (await service.message_page(session, thread)).messages]


def sent(llm: ScriptedLLM) -> list[str]:
    """What the last run sent the model, after its instructions."""
    return [m["content"] for m in llm.requests[-1]["messages"] if m["role"] != "system"]


async def test_an_edit_is_a_new_branch_and_the_history_follows_the_branch_shown(nova: Nova, llm: ScriptedLLM) -> None:
    user_id, thread_id = await _user_thread(nova, llm)
    llm.queue(*(ScriptedReply(text=t) for t in ("A1", "A2", "A2 edited", "A3", "A4")))
    await post(nova, user_id, thread_id, "Q1")
    q2 = await post(nova, user_id, thread_id, "Q2")

    async with nova.ctx.db.transaction() as session:
        edited = await branches.edit(session, nova.ctx.settings, user_id, thread_id, q2.id, "Q2 edited")
    await _answered(nova, edited.run)
    assert sent(llm) == ["Q1", "A1", "Q2 edited"]  # the old Q2 and its reply are not in it
    assert await shown(nova, thread_id) == ["Q1", "A1", "Q2 edited", "A2 edited"]

    await post(nova, user_id, thread_id, "Q3")
    assert sent(llm) == ["Q1", "A1", "Q2 edited", "A2 edited", "Q3"]

    async with nova.ctx.db.transaction() as session:  # back to the first version of Q2
        thread = await branches.select(session, user_id, thread_id, q2.id)
        page = await service.message_page(session, thread)
        versions = await branches.versions_of(session, page.messages)
    assert [m.content for m in page.messages] == ["Q1", "A1", "Q2", "A2"]
    assert (versions[q2.id].position, versions[q2.id].count, versions[q2.id].previous_id) == (1, 2, None)
    assert versions[q2.id].next_id == edited.message.id and len(versions) == 1

    await post(nova, user_id, thread_id, "Q4")
    assert sent(llm) == ["Q1", "A1", "Q2", "A2", "Q4"]

    async with nova.ctx.db.transaction() as session:  # the edited version shows its latest branch
        await branches.select(session, user_id, thread_id, edited.message.id)
    assert await shown(nova, thread_id) == ["Q1", "A1", "Q2 edited", "A2 edited", "Q3", "A3"]


async def test_a_regenerated_reply_is_a_sibling_of_the_old_one(nova: Nova, llm: ScriptedLLM) -> None:
    user_id, thread_id = await _user_thread(nova, llm)
    llm.queue(ScriptedReply(text="Old answer"), ScriptedReply(text="New answer"))
    question = await post(nova, user_id, thread_id, "Question")
    async with nova.ctx.db.transaction() as session:
        thread = await session.get(Thread, thread_id)
        assert thread is not None
        old_reply = (await service.message_page(session, thread)).messages[-1]
        run = await branches.regenerate(session, nova.ctx.settings, user_id, thread_id, old_reply.id)
    await _answered(nova, run)
    assert sent(llm) == ["Question"]  # the old answer is not history for the new one
    assert await shown(nova, thread_id) == ["Question", "New answer"]
    async with nova.ctx.db.transaction() as session:
        new_reply = await threads_repository.get_message(session, thread_id, old_reply.id)
        assert new_reply is not None and new_reply.parent_id == question.id
        replies = await threads_repository.siblings(session, thread_id, [new_reply])
    assert len(replies[old_reply.id]) == 2 and replies[old_reply.id][0] == old_reply.id

    # Given the user's message itself: one more reply to it.
    async with nova.ctx.db.transaction() as session:
        run = await branches.regenerate(session, nova.ctx.settings, user_id, thread_id, question.id)
    llm.queue(ScriptedReply(text="Third answer"))
    await _answered(nova, run)
    assert await shown(nova, thread_id) == ["Question", "Third answer"]
    async with nova.ctx.db.transaction() as session:
        await branches.select(session, user_id, thread_id, old_reply.id)
    assert await shown(nova, thread_id) == ["Question", "Old answer"]


async def test_deleting_from_a_message_keeps_other_branches(nova: Nova, llm: ScriptedLLM) -> None:
    user_id, thread_id = await _user_thread(nova, llm)
    llm.queue(*(ScriptedReply(text=t) for t in ("A1", "A2", "A2b", "A3")))
    await post(nova, user_id, thread_id, "Q1")
    q2 = await post(nova, user_id, thread_id, "Q2")
    async with nova.ctx.db.transaction() as session:
        edited = await branches.edit(session, nova.ctx.settings, user_id, thread_id, q2.id, "Q2b")
    await _answered(nova, edited.run)
    await post(nova, user_id, thread_id, "Q3 unique-word")

    async with nova.ctx.db.transaction() as session:  # the shown version goes: its sibling shows
        await branches.delete_from(session, user_id, thread_id, edited.message.id)
    assert await shown(nova, thread_id) == ["Q1", "A1", "Q2", "A2"]
    async with nova.ctx.db.transaction() as session:
        found = await threads_repository.search(session, user_id, ["unique"], 10)
        thread = await session.get(Thread, thread_id)
        assert thread is not None
        versions = await branches.versions_of(session, (await service.message_page(session, thread)).messages)
    assert found == [] and versions == {}  # what followed it went too, from search as well

    async with nova.ctx.db.transaction() as session:  # a hidden branch goes without moving the shown one
        thread = await service.get_thread(session, user_id, thread_id)
        shown_end = thread.current_message_id
        hidden = Message(thread_id=thread_id, role=MessageRole.ASSISTANT, content="Hidden", parent_id=q2.id)
        session.add(hidden)
        await session.flush()
        thread.current_message_id = shown_end
    async with nova.ctx.db.transaction() as session:
        await branches.delete_from(session, user_id, thread_id, hidden.id)
        assert await threads_repository.get_message(session, thread_id, hidden.id) is None
    assert await shown(nova, thread_id) == ["Q1", "A1", "Q2", "A2"]

    async with nova.ctx.db.transaction() as session:  # from the first message: nothing is left
        first = (await service.message_page(session, await service.get_thread(session, user_id, thread_id))).messages[0]
        await branches.delete_from(session, user_id, thread_id, first.id)
    assert await shown(nova, thread_id) == []
    await post(nova, user_id, thread_id, "A fresh start")
    assert sent(llm) == ["A fresh start"]
    async with nova.ctx.db.transaction() as session:  # a whole tree goes with its thread
        await service.delete_thread(session, await service.get_thread(session, user_id, thread_id))
    async with nova.ctx.db.transaction() as session:
        assert (await session.scalars(select(Message.id).where(Message.thread_id == thread_id))).all() == []


async def writing(nova: Nova, run_id: uuid.UUID) -> None:
    for _ in range(400):
        if any(e.type == "message.delta" for e in await nova.ctx.events.read_after(str(run_id), 0)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reply never started")


async def test_the_tree_stays_put_while_a_run_writes(nova: Nova, llm: ScriptedLLM) -> None:
    user_id, thread_id = await _user_thread(nova, llm)
    llm.queue(ScriptedReply(text="A1"), ScriptedReply(text=" ".join(["slowly"] * 2000), tokens_per_second=20))
    q1 = await post(nova, user_id, thread_id, "Q1")
    async with nova.ctx.db.transaction() as session:
        posted = await service.post_message(session, nova.ctx.settings, user_id, thread_id, "Q2", None)
    await control.start(nova.ctx, posted.run)
    await writing(nova, posted.run.id)  # Stop (below) is for a reply being written
    attempts = [
        lambda s: branches.edit(s, nova.ctx.settings, user_id, thread_id, q1.id, "Q1 again"),
        lambda s: branches.regenerate(s, nova.ctx.settings, user_id, thread_id, q1.id),
        lambda s: branches.select(s, user_id, thread_id, q1.id),
        lambda s: branches.delete_from(s, user_id, thread_id, q1.id),
    ]
    for attempt in attempts:
        with pytest.raises(ThreadBusy) as refused:
            async with nova.ctx.db.transaction() as session:
                await attempt(session)
        assert refused.value.run_id == posted.run.id
    await control.stop(nova.ctx, user_id, posted.run.id)
    await finished_run(nova, posted.run.id)
    assert (await shown(nova, thread_id))[:3] == ["Q1", "A1", "Q2"]

    async with nova.ctx.db.transaction() as session:  # only the user's own messages are edited
        reply = (await service.message_page(session, await service.get_thread(session, user_id, thread_id))).messages[1]
        assert reply.role is MessageRole.ASSISTANT
        with pytest.raises(Conflict, match="Only your own messages"):
            await branches.edit(session, nova.ctx.settings, user_id, thread_id, reply.id, "Words")


async def test_older_pages_follow_the_branch_shown(nova: Nova, llm: ScriptedLLM) -> None:
    user_id, thread_id = await _user_thread(nova, llm)
    async with nova.ctx.db.transaction() as session:  # a long line, then a second branch from its start
        for n in range(6):
            session.add(Message(thread_id=thread_id, role=MessageRole.USER, content=f"main {n}"))
            await session.flush()
        thread = await service.get_thread(session, user_id, thread_id)
        first = (await service.message_page(session, thread, size=10)).messages[0]
        thread.current_message_id = first.id
        for n in range(4):
            session.add(Message(thread_id=thread_id, role=MessageRole.USER, content=f"side {n}"))
            await session.flush()
    async with nova.ctx.db.transaction() as session:
        thread = await service.get_thread(session, user_id, thread_id)
        newest = await service.message_page(session, thread, size=2)
        assert newest.older_than is not None
        older = await service.message_page(session, thread, newest.older_than, size=2)
        oldest = await service.message_page(session, thread, older.older_than, size=2)
    pages = [[m.content for m in page.messages] for page in (oldest, older, newest)]
    assert pages == [["main 0"], ["side 0", "side 1"], ["side 2", "side 3"]] and oldest.older_than is None
