"""Thread search (FTS5 / PostgreSQL full text): ranking, marks on escaped text, owner scoping;
the sidebar's search view, and a result that opens its thread at the message found."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import pytest
from alembic import command
from markupsafe import Markup

from app.migrate import alembic_config
from app.models import MessageRole
from app.threads.search import mark, search_threads, search_words, snip
from tests.fixtures.factories import add_message, make_thread
from tests.fixtures.nova import Nova


async def search(nova: Nova, owner_id: object, text: str) -> list[tuple[str, str | None]]:
    async with nova.ctx.db.transaction() as session:
        results = await search_threads(session, owner_id, text)  # type: ignore[arg-type]
    return [(r.thread.title, r.message.content if r.message else None) for r in results]


@pytest.mark.both_databases
async def test_better_matches_first_then_the_most_recent_and_only_the_owners(nova: Nova) -> None:
    ada, eve = await nova.create_user("ada@example.com"), await nova.create_user("eve@example.com")
    once = await make_thread(nova, ada.id, "Once")
    await add_message(nova, once, MessageRole.USER, "A long message that says tea only once, among many other "
                      "words about the weather, trains, gardens, books, music and the sea.")  # fmt: skip
    often = await make_thread(nova, ada.id, "Often")
    await add_message(nova, often, MessageRole.USER, "Tea, tea and more tea.")
    older = await make_thread(nova, ada.id, "Older twin")
    await add_message(nova, older, MessageRole.USER, "Green teapot")
    newer = await make_thread(nova, ada.id, "Newer twin")
    await add_message(nova, newer, MessageRole.USER, "Green teapot")
    secret = await make_thread(nova, eve.id, "Eve's tea")
    await add_message(nova, secret, MessageRole.USER, "Eve's secret tea and green teapot")

    found = await search(nova, ada.id, "TEA")
    both_words = await search(nova, ada.id, "green tea")  # every word, each as a prefix
    by_title = await search(nova, ada.id, "twi")
    nothing = await search(nova, ada.id, "secret")
    symbols = await search(nova, ada.id, '"* OR NEAR( : & | !')

    # Three matches in five words, then one in two (equal: the newest first), then one in many.
    assert [title for title, _ in found] == ["Often", "Newer twin", "Older twin", "Once"]
    assert both_words == [("Newer twin", "Green teapot"), ("Older twin", "Green teapot")]
    assert {title for title, _ in by_title} == {"Newer twin", "Older twin"}
    assert all(message is None for _, message in by_title)  # the title is the best match
    assert nothing == [] and symbols == []  # another user's messages never appear; no query syntax


@pytest.mark.both_databases
async def test_results_mark_matches_in_escaped_text(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, ada.id, "<b>Tea</b> notes")
    await add_message(nova, thread, MessageRole.ASSISTANT, "<script>alert('tea')</script> A teapot & TEA_time.")
    async with nova.ctx.db.transaction() as session:
        [result] = await search_threads(session, ada.id, "tea time")
    assert result.matches == 1
    assert result.title == Markup("&lt;b&gt;<mark>Tea</mark>&lt;/b&gt; notes")
    assert result.snippet == Markup(
        "&lt;script&gt;alert(&#39;<mark>tea</mark>&#39;)&lt;/script&gt; A <mark>teapot</mark> &amp; "
        "<mark>TEA</mark>_<mark>time</mark>."
    )


def test_words_and_snippets() -> None:
    assert search_words("Tea_time, TEA! 100% ça") == ["tea", "time", "100", "ça"]
    assert search_words("%") == []
    long = " ".join(f"word{n}" for n in range(100)) + " the needle " + " ".join(f"tail{n}" for n in range(100))
    snippet = snip(long, ["needle"], size=80)
    assert snippet.startswith("…") and snippet.endswith("…") and "<mark>needle</mark>" in snippet
    assert len(re.sub(r"</?mark>", "", str(snippet))) <= 84
    assert mark("Teapots and steam", ["tea"]) == Markup("<mark>Teapots</mark> and steam")  # word starts only


async def test_the_sidebar_search_answers_htmx_with_results_and_plain_requests_with_a_page(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    await nova.create_user("eve@example.com")
    thread = await make_thread(nova, ada.id, "Kitchen")
    message = await add_message(nova, thread, MessageRole.USER, "How long to steep <i>green</i> tea?")
    async with await nova.login("ada@example.com") as client:
        fragment = await client.get("/threads/search", params={"q": "steep"}, headers={"HX-Request": "true"})
        empty = await client.get("/threads/search", params={"q": " "}, headers={"HX-Request": "true"})
        page = await client.get("/threads/search", params={"q": "steep"})
        opened = await client.get(f"/threads/{thread.id}", params={"m": str(message.id)})
    async with await nova.login("eve@example.com") as client:
        strangers = await client.get("/threads/search", params={"q": "steep"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert "<mark>steep</mark> &lt;i&gt;green&lt;/i&gt; tea?" in fragment.text
    assert f'/threads/{thread.id}?m={message.id}#message-{message.id}" class="search-hit"' in fragment.text
    assert empty.status_code == 200 and empty.text == ""
    assert "<html" in page.text and "<mark>steep</mark>" in page.text and 'value="steep"' in page.text
    assert f'data-found="message-{message.id}"' in opened.text
    assert "Kitchen" not in strangers.text and "No thread has" in strangers.text


@pytest.mark.both_databases
async def test_a_result_far_back_opens_its_thread_down_to_the_message(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, ada.id, "Long")
    first = await add_message(nova, thread, MessageRole.USER, "The very first question")
    for n in range(60):
        await add_message(nova, thread, MessageRole.USER, f"Message {n}")
    async with await nova.login("ada@example.com") as client:
        newest = await client.get(f"/threads/{thread.id}")
        reaching = await client.get(f"/threads/{thread.id}", params={"m": str(first.id)})
    assert "The very first question" not in newest.text
    assert "The very first question" in reaching.text and f'data-found="message-{first.id}"' in reaching.text


def test_the_migration_keeps_every_message_and_indexes_what_was_there(tmp_path: Path) -> None:
    """SQLite: pinned/archived are added in place (a batch copy of `threads` would cascade
    its drop to every message), and the search table starts with the existing rows."""
    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0014")
    user, thread = uuid.uuid4().hex, uuid.uuid4().hex
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO users (id, email, password_hash, role, is_active, timezone, created_at) "
                   "VALUES (?, 'a@example.com', 'x', 'user', 1, 'UTC', '2026-01-01 00:00:00')", (user,))  # fmt: skip
        db.execute("INSERT INTO threads (id, owner_id, title, title_by_user, updated_at, created_at) "
                   "VALUES (?, ?, 'Old kettle', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')", (thread, user))  # fmt: skip
        db.execute("INSERT INTO messages (id, thread_id, role, content, created_at) "
                   "VALUES (?, ?, 'user', 'Brew the oolong', '2026-01-01 00:00:00')", (uuid.uuid4().hex, thread))  # fmt: skip
    command.upgrade(config, "head")
    with sqlite3.connect(path) as db:
        found = db.execute("SELECT body FROM thread_search_fts WHERE thread_search_fts MATCH 'oolong OR kettle' "
                           "ORDER BY body").fetchall()  # fmt: skip
        flags = db.execute("SELECT pinned, archived FROM threads").fetchall()
    assert found == [("Brew the oolong",), ("Old kettle",)] and flags == [(0, 0)]
