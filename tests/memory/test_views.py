"""The Memory page: browse, search, edit and delete your own memories."""

from __future__ import annotations

import pytest

from app.memory import service as memories
from tests.fixtures.nova import Nova, submit


@pytest.mark.both_databases
async def test_memory_page_browses_searches_edits_and_deletes(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    eve = await nova.create_user("eve@example.com")
    async with nova.ctx.db.transaction() as session:
        tea = await memories.save(session, ada.id, "Ada drinks green tea every morning.")
        await memories.save(session, ada.id, "Ada's cat is called Pixel.")
        await memories.save(session, eve.id, "Eve prefers coffee.")
    async with await nova.login("ada@example.com") as client:
        listing = await client.get("/memory")
        search = await client.get("/memory", params={"q": "tea"})
        edited = await submit(client, f"/memory/{tea.id}", {"content": "Ada drinks black tea."})
        empty = await submit(client, f"/memory/{tea.id}", {"content": "  "})
        after = await client.get("/memory", params={"q": "black"})
        deleted = await submit(client, f"/memory/{tea.id}/delete")
        gone = await client.get(f"/memory/{tea.id}/edit")
    assert "Pixel" in listing.text and "coffee" not in listing.text
    assert "green tea" in search.text and "Pixel" not in search.text
    assert edited.status_code == 303 and empty.status_code == 400
    assert "black tea" in after.text
    assert deleted.status_code == 303 and gone.status_code == 404
