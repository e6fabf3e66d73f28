"""Full-text search over memories: tsvector on PostgreSQL, FTS5 on SQLite, the same answers."""

from __future__ import annotations

import uuid

import pytest

from app.db import Database
from app.memory import service as memories
from app.models import Role, User

pytestmark = pytest.mark.both_databases


async def new_user(db: Database) -> uuid.UUID:
    async with db.transaction() as session:
        user = User(email=f"{uuid.uuid4().hex[:10]}@example.com", password_hash="-", role=Role.USER)
        session.add(user)
        await session.flush()
        return user.id


async def search(db: Database, owner_id: uuid.UUID, query: str) -> list[str]:
    async with db.transaction() as session:
        return [m.content for m in await memories.search(session, owner_id, query)]


async def test_search_finds_words_and_prefixes_best_first_for_the_owner_only(db: Database) -> None:
    ada, eve = await new_user(db), await new_user(db)
    async with db.transaction() as session:
        await memories.save(session, ada, "Ada drinks green tea every morning before work.")
        await memories.save(session, ada, "Tea, tea and more tea.")
        await memories.save(session, ada, "Ada's cat is called Pixel.")
        await memories.save(session, eve, "Eve likes tea too.")
    assert await search(db, ada, "tea") == ["Tea, tea and more tea.", "Ada drinks green tea every morning before work."]
    assert await search(db, ada, "TEA") == await search(db, ada, "tea")
    assert await search(db, ada, "pix") == ["Ada's cat is called Pixel."]  # a prefix
    assert await search(db, ada, "cat or coffee") == ["Ada's cat is called Pixel."]  # any word
    assert await search(db, eve, "tea") == ["Eve likes tea too."]
    assert await search(db, ada, "coffee") == []


@pytest.mark.parametrize("query", ['"', 'tea" OR "cat', "tea & !cat", "tea:* | (", "*", "NEAR(tea cat)", "-- ;"])
async def test_query_syntax_never_reaches_the_engine(db: Database, query: str) -> None:
    owner = await new_user(db)
    async with db.transaction() as session:
        await memories.save(session, owner, "Ada drinks green tea.")
    found = await search(db, owner, query)  # no syntax error on either engine
    assert found == (["Ada drinks green tea."] if "tea" in query else [])


async def test_search_follows_edits_and_deletes(db: Database) -> None:
    owner = await new_user(db)
    async with db.transaction() as session:
        tea = await memories.save(session, owner, "Ada drinks green tea.")
    async with db.transaction() as session:
        await memories.update(session, owner, tea.id, "Ada drinks black coffee.")
    assert await search(db, owner, "green") == []
    assert await search(db, owner, "coffee") == ["Ada drinks black coffee."]
    async with db.transaction() as session:
        await memories.delete(session, owner, tea.id)
    assert await search(db, owner, "coffee") == []
