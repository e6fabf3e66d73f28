"""Import: a Nova export comes back as the same tree, ChatGPT's conversations.json as threads of
what a person saw, and a bad or too large file is refused whole, naming the problem."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.models import Message, Thread
from app.threads import repository as threads_repository
from app.threads import service as threads
from tests.api.support import bearer, problem
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, csrf_for, nova_settings, open_nova
from tests.transfer.test_export import branched_thread

CHATGPT = Path(__file__).with_name("chatgpt_conversations.json")


async def upload(client: httpx.AsyncClient, content: bytes, name: str = "export.json") -> httpx.Response:
    """The Import page's form, as htmx posts it (the CSRF token in the header)."""
    headers = {"x-csrf-token": await csrf_for(client), "hx-request": "true"}
    return await client.post("/threads/import", files={"file": (name, content, "application/json")}, headers=headers)


async def tree(nova: Nova, thread_id: uuid.UUID) -> tuple[set[tuple[Any, ...]], list[str]]:
    """Each message as (role, content, its parent's content, time, finish), and the branch shown."""
    async with nova.ctx.db.transaction() as session:
        thread = await session.get(Thread, thread_id)
        assert thread is not None
        messages = (await session.scalars(select(Message).where(Message.thread_id == thread_id))).all()
        by_id = {m.id: m for m in messages}
        shown = [m.content for m in (await threads.message_page(session, thread)).messages]
    rows = {(m.role.value, m.content, by_id[m.parent_id].content if m.parent_id else None, m.created_at,
             m.finish_reason.value if m.finish_reason else None) for m in messages}  # fmt: skip
    return rows, shown


async def counts(nova: Nova) -> tuple[int, int]:
    async with nova.ctx.db.transaction() as session:
        return (int(await session.scalar(select(func.count()).select_from(Thread)) or 0),
                int(await session.scalar(select(func.count()).select_from(Message)) or 0))  # fmt: skip


@pytest.mark.both_databases
async def test_an_export_imported_is_the_same_tree_in_a_new_thread(nova: Nova, llm: ScriptedLLM) -> None:
    owner = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, owner.id, await make_provider(nova, owner.id, llm.base_url))
    original = await branched_thread(nova, owner.id, agent, title="Tea tasting")
    await nova.create_user("bob@example.com")
    async with await nova.login("ada@example.com") as client:
        exported = (await client.get(f"/threads/{original.id}/export.json")).content
    async with await nova.login("bob@example.com") as client:
        answer = await upload(client, exported)
        assert answer.status_code == 200, answer.text
        new_id = uuid.UUID(answer.headers["hx-redirect"].rsplit("/", 1)[1])  # the one thread opens
        opened = await client.get(f"/threads/{new_id}")
        assert "Pu-erh, regenerated." in opened.text and "Tea tasting" in opened.text
        assert "Tea tasting" in (await client.get("/threads/search", params={"q": "pu-erh"})).text
    assert await tree(nova, new_id) == await tree(nova, original.id)
    async with nova.ctx.db.transaction() as session:
        imported = await session.get(Thread, new_id)
        assert imported is not None and imported.owner_id != owner.id and imported.title_by_user
        assert imported.created_at == original.created_at
        replies = (await session.scalars(select(Message).where(Message.thread_id == new_id))).all()
        assert all(m.run_id is None and m.agent_id is None for m in replies)  # imported: no run, no agent
        assert len(await threads_repository.search(session, imported.owner_id, ["assam"], 10)) == 1


@pytest.mark.both_databases
async def test_chatgpt_conversations_keep_what_was_shown_and_its_branches(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    async with nova.client() as client:
        answer = await client.post("/api/v1/threads/import", files={"file": ("conversations.json", CHATGPT.read_bytes())},
                                   headers=await bearer(nova, user.id))  # fmt: skip
    assert answer.status_code == 201, answer.text
    made = answer.json()["data"]
    assert [(t["title"], t["messages"]) for t in made] == [("Tea for a cold morning", 5), ("Haiku about autumn", 2)]
    assert made[0]["created_at"].startswith("2025-11-30T10:53:20")
    rows, shown = await tree(nova, uuid.UUID(made[0]["id"]))
    assert shown == ["What tea warms you up on a cold morning?", "Ginger tea: fresh ginger, honey and lemon.",
                     "Where can I buy fresh ginger near the station?",
                     "The Market Hall next to the station sells it, open 7 to 19."]  # fmt: skip
    parents = {content: parent for _, content, parent, _, _ in rows}
    assert parents["Try a strong Assam with milk."] == "What tea warms you up on a cold morning?"  # the other version
    # The system prompt, custom instructions, the browsing call and its result are not messages.
    assert parents["The Market Hall next to the station sells it, open 7 to 19."] == (
        "Where can I buy fresh ginger near the station?"
    )
    assert parents["What tea warms you up on a cold morning?"] is None
    _, haiku = await tree(nova, uuid.UUID(made[1]["id"]))
    assert haiku[0] == "Write a haiku about this photo of autumn leaves."  # the image left out
    async with nova.client() as client:  # in the thread list and the API's search
        found = await client.get("/api/v1/threads", params={"q": "ginger"}, headers=await bearer(nova, user.id))
    assert [t["title"] for t in found.json()["data"]] == ["Tea for a cold morning"]


def _nova_doc(title: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": "nova.thread", "version": 1,
            "thread": {"title": title, "created_at": "2026-01-02T03:04:05Z", "current_message_id": None},
            "messages": messages}  # fmt: skip


def _chatgpt() -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = json.loads(CHATGPT.read_text())
    return conversations


_SYSTEM = {
    "id": "s",
    "parent": None,
    "children": [],
    "message": {"author": {"role": "system"}, "content": {"content_type": "text", "parts": ["Be brief."]}},
}
_USER = {
    "id": "u",
    "parent": "gone",
    "children": [],
    "message": {"author": {"role": "user"}, "content": {"content_type": "text", "parts": ["Hi"]}},
}
GOOD = _nova_doc("Good", [{"id": "1", "role": "user", "content": "Hello", "created_at": "2026-01-02T03:04:05Z"}])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n not json at all", "The file is not JSON"),
        (b"", "Choose a file to import"),
        (json.dumps({"hello": "world"}).encode(), "does not know this file's format"),
        (json.dumps({"format": "slack.export"}).encode(), "does not know the format “slack.export”"),
        (json.dumps([GOOD, _nova_doc("Empty", []), GOOD]).encode(), "Conversation 2 (“Empty”) has no messages."),
        (json.dumps([GOOD, _nova_doc("Bad role", [{"id": "1", "role": "robot", "content": "x",
                                                    "created_at": "2026-01-02T03:04:05Z"}])]).encode(),
         "Conversation 2 (“Bad role”): messages.0.role"),
        (json.dumps([GOOD, _nova_doc("Orphan", [{"id": "2", "parent_id": "9", "role": "user", "content": "x",
                                                  "created_at": "2026-01-02T03:04:05Z"}])]).encode(),
         "message “2” follows “9”, which is not in the file"),
        (json.dumps([GOOD, {"title": "Half"}]).encode(), "Conversation 2 is neither a Nova thread nor a ChatGPT"),
        (json.dumps([GOOD, {"title": "Chat", "mapping": {}}]).encode(), "mixes Nova threads and ChatGPT"),
        (json.dumps([*_chatgpt(), {"title": "Only a prompt", "mapping": {"s": _SYSTEM}}]).encode(),
         "Conversation 3 (“Only a prompt”) has no messages."),
        (json.dumps([*_chatgpt(), {"title": "Torn", "mapping": {"u": _USER}}]).encode(),
         "Conversation 3 (“Torn”): a message follows “gone”, which is not in its mapping."),
        (json.dumps([GOOD] * 2001).encode(), "one import takes at most 2000"),
    ],
)  # fmt: skip
async def test_a_bad_file_is_refused_whole_with_its_reason(nova: Nova, content: bytes, reason: str) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        answer = await upload(client, content, "" if not content else "export.json")
    assert answer.status_code == 422
    assert reason in answer.text.replace("&#34;", '"').replace("&#39;", "'"), answer.text
    assert 'id="import-form"' in answer.text  # the form again, to choose another file
    assert await counts(nova) == (0, 0)


async def test_a_file_over_the_limit_is_refused_and_nothing_is_read(database_url: str, tmp_path: Path) -> None:
    settings = nova_settings(database_url, tmp_path, NOVA_IMPORT_MAX_BYTES=str(1024 * 1024))
    async with open_nova(settings) as nova:
        user = await nova.create_user("ada@example.com")
        padded = [dict(GOOD, thread={"title": "x" * 150, "created_at": "2026-01-02T03:04:05Z"})] * 6000
        just_over = json.dumps(padded).encode()[: 1024 * 1024 + 5000]  # past the limit, within the form's room
        far_over = b"[" + b" " * (3 * 1024 * 1024) + b"]"
        async with await nova.login("ada@example.com") as client:
            page_answer = await upload(client, just_over)
            headers = await bearer(nova, user.id)
            api_answer = await client.post("/api/v1/threads/import", content=far_over,
                                           headers=headers | {"content-type": "application/json"})  # fmt: skip
        assert page_answer.status_code == 422 and "Imports are limited to 1 MB." in page_answer.text
        assert problem(api_answer, 413)["detail"] == "Imports are limited to 1 MB."
        assert await counts(nova) == (0, 0)
