from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.models import FinishReason, Message, MessageRole, Run, RunStatus, Thread
from app.runs.service import BUSY_MESSAGE
from app.threads.service import MESSAGES_PER_PAGE, PAGE_SIZE, RETRY_REFUSED
from tests.fixtures.factories import add_message, make_agent, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, field_error, submit
from tests.fixtures.runs import finished_run


@pytest.mark.both_databases
async def test_new_thread_then_post_a_message(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with await nova.login("ada@example.com") as client:
        created = await submit(client, "/threads")
        thread_url = created.headers["location"]
        posted = await submit(
            client, thread_url + "/messages",
            {"content": "What is the capital\nof France?", "agent_id": str(agent.id)},
        )  # fmt: skip
        page = await client.get(thread_url)
    assert posted.status_code == 303
    assert "What is the capital\nof France?" in page.text
    async with nova.ctx.db.transaction() as session:
        thread = await session.scalar(select(Thread))
        messages = (await session.scalars(select(Message))).all()
    assert thread is not None
    assert thread.title == "What is the capital"
    assert thread.agent_id == agent.id
    assert [(m.role, m.agent_id) for m in messages] == [(MessageRole.USER, agent.id)]


async def test_htmx_post_returns_the_message_and_a_fresh_composer(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    async with await nova.login("ada@example.com") as client:
        response = await submit(
            client, f"/threads/{thread.id}/messages", {"content": "<b>hi</b> there"},
            headers={"HX-Request": "true"},
        )  # fmt: skip
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#messages"' in response.text
    assert "&lt;b&gt;hi&lt;/b&gt; there" in response.text
    assert 'id="composer"' in response.text
    assert "<html" not in response.text


async def test_posting_without_any_agent_says_what_to_do(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id)
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, f"/threads/{thread.id}/messages", {"content": "hello?"})
    assert response.status_code == 400
    assert field_error(response.text, "agent") == "Set up an agent first (Agents page)."
    assert "hello?</textarea>" in response.text


async def test_empty_message_is_refused_with_a_field_error(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id)
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, f"/threads/{thread.id}/messages", {"content": "   "})
    assert response.status_code == 400
    assert field_error(response.text, "content") == "Write a message first."


async def test_another_users_agent_cannot_be_picked(nova: Nova, llm: ScriptedLLM) -> None:
    other = await nova.create_user("eve@example.com")
    theirs = await make_agent(nova, other.id, await make_provider(nova, other.id, llm.base_url))
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id)
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, f"/threads/{thread.id}/messages", {"content": "hi", "agent_id": str(theirs.id)})
    assert response.status_code == 400
    assert field_error(response.text, "agent")
    assert "hi</textarea>" in response.text


@pytest.mark.both_databases
async def test_rename_and_delete(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id, "Old title")
    async with await nova.login("ada@example.com") as client:
        renamed = await submit(client, f"/threads/{thread.id}/rename", {"title": "  New   title "})
        blank = await submit(client, f"/threads/{thread.id}/rename", {"title": " "})
        page = await client.get(f"/threads/{thread.id}")
        confirm = await client.get(f"/threads/{thread.id}/delete")
        deleted = await submit(client, f"/threads/{thread.id}/delete")
        gone = await client.get(f"/threads/{thread.id}")
    assert renamed.status_code == 303
    assert blank.status_code == 400
    assert "New title" in page.text
    assert confirm.status_code == 200 and "Old title" not in confirm.text
    assert deleted.status_code == 303
    assert gone.status_code == 404


async def test_htmx_rename_updates_the_sidebar_out_of_band(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id, "Old title")
    async with await nova.login("ada@example.com") as client:
        renamed = await submit(
            client, f"/threads/{thread.id}/rename", {"title": "Fresh name"}, headers={"HX-Request": "true"}
        )
        blank = await submit(client, f"/threads/{thread.id}/rename", {"title": " "}, headers={"HX-Request": "true"})
    assert renamed.status_code == 200 and "<html" not in renamed.text
    sidebar = re.search(r'<nav id="sidebar"[^>]*>.*?</nav>', renamed.text, re.DOTALL)
    assert sidebar is not None, "no sidebar in the rename answer"
    assert 'hx-swap-oob="true"' in sidebar.group(0).split(">", 1)[0]
    assert ">Fresh name</a>" in sidebar.group(0) and "Old title" not in sidebar.group(0)
    assert 'value="Fresh name"' in renamed.text  # the title form itself
    # A refused title changes nothing, so the sidebar is left alone.
    assert blank.status_code == 400 and 'id="sidebar"' not in blank.text


@pytest.mark.both_databases
async def test_sidebar_is_newest_first_and_paginated(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    for n in range(PAGE_SIZE + 2):
        await make_thread(nova, user.id, f"Thread number {n:02d}")
    async with await nova.login("ada@example.com") as client:
        first = await client.get("/threads")
        second = await client.get("/threads?page=2", headers={"HX-Request": "true"})
    newest, oldest = f"Thread number {PAGE_SIZE + 1:02d}", "Thread number 00"
    assert newest in first.text and oldest not in first.text
    assert first.text.index(newest) < first.text.index(f"Thread number {PAGE_SIZE:02d}")
    assert oldest in second.text and newest not in second.text
    assert "<html" not in second.text


async def test_assistant_markdown_is_rendered_and_sanitised(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id)
    await add_message(nova, thread, MessageRole.ASSISTANT,
                      "**Bold** <script>alert(1)</script> [x](javascript:alert(2))")  # fmt: skip
    async with await nova.login("ada@example.com") as client:
        page = await client.get(f"/threads/{thread.id}")
    assert "<strong>Bold</strong>" in page.text
    assert "<script>alert(1)" not in page.text
    assert 'href="javascript:' not in page.text


async def failed_reply(nova: Nova, llm: ScriptedLLM, email: str = "ada@example.com") -> tuple[Thread, Message]:
    """A thread whose one question got a failed reply (the provider refused the key)."""
    user = await nova.create_user(email)
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    llm.queue(ScriptedReply(status=401))
    async with await nova.login(email) as client:
        assert (await submit(client, f"/threads/{thread.id}/messages", {"content": "Hello?"})).status_code == 303
    async with nova.ctx.db.transaction() as session:
        run_id = await session.scalar(select(Run.id).where(Run.thread_id == thread.id))
    assert run_id is not None
    await finished_run(nova, run_id)
    async with nova.ctx.db.transaction() as session:
        failed = await session.scalar(select(Message).where(Message.run_id == run_id))
    assert failed is not None and failed.finish_reason is FinishReason.ERROR
    return thread, failed


async def runs_of(nova: Nova, thread: Thread) -> list[Run]:
    async with nova.ctx.db.transaction() as session:
        return list(await session.scalars(select(Run).where(Run.thread_id == thread.id).order_by(Run.created_at)))


async def test_a_failed_reply_offers_retry_which_answers_the_same_message(nova: Nova, llm: ScriptedLLM) -> None:
    thread, failed = await failed_reply(nova, llm)
    retry_url = f"/threads/{thread.id}/messages/{failed.id}/retry"
    async with await nova.login("ada@example.com") as client:
        page = await client.get(f"/threads/{thread.id}")
        llm.queue(ScriptedReply(text="Hello again."))
        retried = await submit(client, retry_url, headers={"HX-Request": "true"})
        first, second = await runs_of(nova, thread)
        await finished_run(nova, second.id)
        again = await submit(client, retry_url)  # the failure is no longer the last reply
        after = await client.get(f"/threads/{thread.id}")
    assert f'action="http://testserver{retry_url}"' in page.text and ">Retry</button>" in page.text
    assert retried.status_code == 200 and "<html" not in retried.text
    assert f'id="run-{second.id}"' in retried.text and "message-streaming" in retried.text
    assert llm.requests[-1]["messages"][-1] == {"role": "user", "content": "Hello?"}
    assert (await runs_of(nova, thread))[1].status is RunStatus.COMPLETED
    assert again.status_code == 409 and RETRY_REFUSED in unescape(again.text)
    assert len(await runs_of(nova, thread)) == 2
    # The failure stays where it was; the new reply follows it.
    assert after.text.index("The provider rejected the API key.") < after.text.index("Hello again.")
    assert first.id != second.id


async def test_retry_without_htmx_goes_back_to_the_thread(nova: Nova, llm: ScriptedLLM) -> None:
    thread, failed = await failed_reply(nova, llm)
    async with await nova.login("ada@example.com") as client:
        retried = await submit(client, f"/threads/{thread.id}/messages/{failed.id}/retry")
    assert retried.status_code == 303
    assert retried.headers["location"] == f"http://testserver/threads/{thread.id}"
    second = (await runs_of(nova, thread))[1]
    assert (await finished_run(nova, second.id)).status is RunStatus.COMPLETED


async def test_retry_is_refused_while_the_thread_is_busy(nova: Nova, llm: ScriptedLLM) -> None:
    thread, failed = await failed_reply(nova, llm)
    async with nova.ctx.db.transaction() as session:  # a reply being written, as a worker holds it
        session.add(Run(owner_id=thread.owner_id, thread_id=thread.id, agent_id=failed.agent_id,
                        status=RunStatus.RUNNING, attempts=1))  # fmt: skip
    async with await nova.login("ada@example.com") as client:
        plain = await submit(client, f"/threads/{thread.id}/messages/{failed.id}/retry")
        htmx = await submit(client, f"/threads/{thread.id}/messages/{failed.id}/retry", headers={"HX-Request": "true"})
    assert plain.status_code == 409 and BUSY_MESSAGE in unescape(plain.text)
    assert htmx.headers.get("HX-Reswap") == "none" and BUSY_MESSAGE in unescape(htmx.text)  # a toast
    assert len(await runs_of(nova, thread)) == 2


async def test_another_users_failed_reply_cannot_be_retried(nova: Nova, llm: ScriptedLLM) -> None:
    thread, failed = await failed_reply(nova, llm)
    await nova.create_user("eve@example.com")
    async with await nova.login("eve@example.com") as client:
        response = await submit(client, f"/threads/{thread.id}/messages/{failed.id}/retry")
    assert response.status_code == 404
    assert len(await runs_of(nova, thread)) == 1


async def test_a_message_can_ask_for_another_model_than_the_agents(nova: Nova, llm: ScriptedLLM) -> None:
    """The agent keeps its model; the composer's choice applies to that one reply."""
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    await make_agent(nova, user.id, provider)
    thread = await make_thread(nova, user.id)
    llm.queue(ScriptedReply(text="From the large one."), ScriptedReply(text="Back to small."))
    async with await nova.login("ada@example.com") as client:
        tested = await submit(client, f"/providers/{provider.id}/test", headers={"HX-Request": "true"})
        page = await client.get(f"/threads/{thread.id}")
        refused = await submit(client, f"/threads/{thread.id}/messages", {"content": "Hi", "model": "two words"})
        await submit(client, f"/threads/{thread.id}/messages", {"content": "Hi", "model": " scripted-large "})
        first = await _latest_run(nova, thread.id)
        await finished_run(nova, first.id)
        await submit(client, f"/threads/{thread.id}/messages", {"content": "Again", "model": ""})
        await finished_run(nova, (await _latest_run(nova, thread.id)).id)
    assert tested.status_code == 200
    choices = re.search(r'<datalist id="composer-models">(.*?)</datalist>', page.text, re.S)
    assert choices is not None and '<option value="scripted-large" label="Local">' in choices.group(1)
    assert refused.status_code == 400 and "no spaces" in (field_error(refused.text, "model") or "")
    assert [request["model"] for request in llm.requests] == ["scripted-large", "scripted-small"]
    assert first.model == "scripted-large"


async def _latest_run(nova: Nova, thread_id: object) -> Run:
    async with nova.ctx.db.transaction() as session:
        run = await session.scalar(select(Run).where(Run.thread_id == thread_id).order_by(Run.created_at.desc()))
    assert run is not None
    return run


async def long_thread(nova: Nova, owner_email: str, count: int) -> Thread:
    """A thread of `count` messages, "Message 000" the oldest."""
    user = await nova.create_user(owner_email)
    thread = await make_thread(nova, user.id)
    start = datetime.now(UTC) - timedelta(days=1)
    async with nova.ctx.db.transaction() as session:
        for n in range(count):
            role = MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT
            session.add(Message(thread_id=thread.id, role=role, content=f"Message {n:03d}",
                                created_at=start + timedelta(seconds=n)))  # fmt: skip
    return thread


def shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"Message (\d{3})", html)]


async def test_a_long_thread_opens_at_its_newest_page_and_loads_earlier_ones(nova: Nova) -> None:
    per_page = MESSAGES_PER_PAGE
    thread = await long_thread(nova, "ada@example.com", 2 * per_page + 20)
    async with await nova.login("ada@example.com") as client:
        page = await client.get(f"/threads/{thread.id}")
        assert shown(page.text) == list(range(per_page + 20, 2 * per_page + 20))
        older = unescape(re.search(r'hx-get="([^"]*before=[^"]*)"', page.text)[1])  # type: ignore[index]
        second = await client.get(older, headers={"HX-Request": "true"})
        assert shown(second.text) == list(range(20, per_page + 20)) and "<html" not in second.text
        third = await client.get(unescape(re.search(r'hx-get="([^"]*before=[^"]*)"', second.text)[1]))  # type: ignore[index]
        assert shown(third.text) == list(range(20)) and "messages-older" not in third.text
        assert (await client.get(f"/threads/{thread.id}/messages?before={uuid.uuid4()}")).status_code == 404
        assert (await client.get(f"/threads/{thread.id}/messages?before=nonsense")).status_code == 422
    await nova.create_user("eve@example.com")
    async with await nova.login("eve@example.com") as stranger:
        assert (await stranger.get(older)).status_code == 404
