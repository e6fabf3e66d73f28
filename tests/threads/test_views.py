from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Message, MessageRole, Thread
from app.threads.service import PAGE_SIZE
from tests.fixtures.factories import add_message, make_agent, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, field_error, submit


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
