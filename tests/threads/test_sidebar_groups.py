"""The sidebar's groups: Pinned on top, then by day of last activity in the user's timezone;
archived threads leave it for the Archived page; the same flags in /api/v1."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from app.models import Thread
from app.threads.service import by_day
from tests.api.support import bearer
from tests.fixtures.factories import make_thread
from tests.fixtures.nova import Nova, submit


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_days_are_counted_in_the_users_timezone() -> None:
    now = at("2026-03-10T01:30:00")  # still the 9th in New York
    threads = [Thread(title=name, updated_at=at(when)) for name, when in [
        ("evening", "2026-03-09T23:00:00"), ("morning", "2026-03-09T13:00:00"), ("sunday", "2026-03-08T12:00:00"),
        ("last week", "2026-03-02T12:00:00"), ("february", "2026-02-20T12:00:00"),
    ]]  # fmt: skip
    new_york = {g.label: [t.title for t in g.threads] for g in by_day(threads, "America/New_York", now)}
    utc = {g.label: [t.title for t in g.threads] for g in by_day(threads, "UTC", now)}
    unknown_zone = {g.label: [t.title for t in g.threads] for g in by_day(threads, "Mars/Olympus", now)}
    assert new_york == {"Today": ["evening", "morning"], "Yesterday": ["sunday"],
                        "Previous 7 days": ["last week"], "Older": ["february"]}  # fmt: skip
    assert utc == {"Yesterday": ["evening", "morning"], "Previous 7 days": ["sunday"],
                   "Older": ["last week", "february"]}  # fmt: skip
    assert unknown_zone == utc


def sidebar_groups(html: str) -> dict[str, list[str]]:
    sidebar = re.search(r'<nav id="sidebar".*?</nav>', html, re.DOTALL)
    assert sidebar is not None
    groups = re.findall(r'<h2 class="thread-group-label"[^>]*>([^<]+)</h2>(.*?)</section>', sidebar.group(0), re.DOTALL)
    return {label: re.findall(r'class="thread-link[^"]*"[^>]*>([^<]+)</a>', body) for label, body in groups}


@pytest.mark.both_databases
async def test_pin_then_archive_then_restore(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    old, new = await make_thread(nova, ada.id, "Old one"), await make_thread(nova, ada.id, "New one")
    async with nova.ctx.db.transaction() as session:
        await session.execute(update(Thread).where(Thread.id == old.id).values(updated_at=at("2020-01-01T12:00:00")))
    htmx = {"HX-Request": "true"}
    async with await nova.login("ada@example.com") as client:
        before = await client.get("/threads")
        pinned = await submit(client, f"/threads/{old.id}/pin", {"pinned": "true"}, headers=htmx)
        archived = await submit(client, f"/threads/{new.id}/archive", {"archived": "true"})
        listed = await client.get("/threads")
        archive_page = await client.get("/threads/archived")
        restored = await submit(client, f"/threads/{new.id}/archive", {"archived": "false", "back": "archived"},
                                headers=htmx)  # fmt: skip
        after = await client.get("/threads")
    assert sidebar_groups(before.text) == {"Today": ["New one"], "Older": ["Old one"]}
    assert pinned.status_code == 200 and ">Unpin</button>" in pinned.text
    assert sidebar_groups(pinned.text) == {"Pinned": ["Old one"], "Today": ["New one"]}  # out of band
    assert archived.status_code == 303 and archived.headers["location"].endswith(f"/threads/{new.id}")
    assert sidebar_groups(listed.text) == {"Pinned": ["Old one"]}
    assert "New one" in archive_page.text and ">Unarchive<" in archive_page.text
    assert restored.status_code == 200 and 'id="archived"' in restored.text and "New one" not in restored.text
    assert sidebar_groups(after.text) == {"Pinned": ["Old one"], "Today": ["New one"]}


async def test_archiving_unpins_and_the_api_shows_and_sets_both(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, ada.id, "Flags")
    auth = await bearer(nova, ada.id, "write")
    async with nova.client() as client:
        fresh = (await client.get(f"/api/v1/threads/{thread.id}", headers=auth)).json()
        pinned = (await client.patch(f"/api/v1/threads/{thread.id}", json={"pinned": True}, headers=auth)).json()
        archived = (await client.patch(f"/api/v1/threads/{thread.id}", json={"archived": True}, headers=auth)).json()
        renamed = await client.patch(f"/api/v1/threads/{thread.id}", json={"title": "Kept"}, headers=auth)
    assert (fresh["pinned"], fresh["archived"]) == (False, False)
    assert (pinned["pinned"], pinned["archived"]) == (True, False)
    assert (archived["pinned"], archived["archived"]) == (False, True)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Kept" and renamed.json()["archived"] is True
