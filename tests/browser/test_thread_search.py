"""The sidebar in a browser: threads grouped by day, Ctrl+K and a search that marks its matches
as you type, a result opening its thread at the message found, pin and archive, on a desktop
and on a phone (390 by 844, where the list is a drawer)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.models import Message, MessageRole, Thread
from tests.browser.test_mobile import PHONE, log_in, screenshot
from tests.fixtures.live import LiveNova

pytestmark = [pytest.mark.browser, pytest.mark.live]


async def seed_threads(live: LiveNova) -> dict[str, uuid.UUID]:
    """Ada's threads, last active today, yesterday and a month ago, with a message each."""
    now, made = utcnow(), {}
    rows = [("Garden plans", 0, "Plant the tomatoes near the <b>fence</b>, in full sun."),
            ("Budget 2026", 1, "Tomato sauce costs more this year."),
            ("Trip notes", 30, "Pack the rain jacket.")]  # fmt: skip
    async with live.db.transaction() as session:
        for title, days_ago, content in rows:
            thread = Thread(owner_id=live.user_id, title=title, updated_at=now - timedelta(days=days_ago, minutes=1))
            session.add(thread)
            await session.flush()
            session.add(Message(thread_id=thread.id, role=MessageRole.USER, content=content))
            made[title] = thread.id
    return made


def group(page: Page, label: str) -> object:
    return page.locator("#sidebar .thread-group").filter(has=page.get_by_role("heading", name=label, exact=True))


def open_thread(page: Page, title: str) -> None:
    page.locator("#sidebar .thread-link", has_text=title).click()
    expect(page.locator("#thread-title-input")).to_have_value(title)


def test_search_pin_and_archive_on_a_desktop(nova_app: LiveNova, page: Page, artifacts_dir: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    threads = nova_app.call(seed_threads(nova_app))  # type: ignore[attr-defined]
    log_in(page, nova_app)
    labels = page.locator("#sidebar .thread-group-label")
    expect(labels).to_have_text(["Today", "Yesterday", "Older"])

    page.keyboard.press("Control+K")
    search = page.locator("#thread-search")
    expect(search).to_be_focused()
    search.press_sequentially("tomat", delay=30)
    hits = page.locator("#search-results .search-hit")
    expect(hits).to_have_count(2)
    garden = hits.filter(has_text="Garden plans")
    expect(garden.locator("mark")).to_have_text(["tomatoes"])
    expect(garden).to_contain_text("<b>fence</b>")  # the message's markup is text
    expect(hits.filter(has_text="Budget 2026").locator("mark")).to_have_text(["Tomato"])
    expect(page.locator("#sidebar .thread-groups")).to_be_hidden()
    screenshot(page, artifacts_dir / "thread-search-desktop.png")

    garden.click()
    expect(page).to_have_url(re.compile(rf".*/threads/{threads['Garden plans']}\?m=.*"))
    expect(page.locator("#messages .message.is-found")).to_contain_text("Plant the tomatoes")
    expect(search).to_have_value("tomat")  # the results stay while their threads are read
    search.fill("")
    expect(hits).to_have_count(0)
    expect(page.locator("#sidebar .thread-groups")).to_be_visible()

    open_thread(page, "Trip notes")
    page.locator("#thread-title .thread-more summary").click()
    page.locator("#thread-title button", has_text="Pin").click()
    expect(labels.first).to_have_text("Pinned")
    expect(group(page, "Pinned").locator(".thread-link")).to_have_text(["Trip notes"])
    expect(page.locator("#thread-title button", has_text="Unpin")).to_be_attached()

    open_thread(page, "Budget 2026")
    page.locator("#thread-title .thread-more summary").click()
    screenshot(page, artifacts_dir / "thread-more-menu-desktop.png")
    page.locator("#thread-title button", has_text="Archive").click()
    expect(page.locator("#thread-title .badge")).to_have_text("Archived")
    expect(page.locator("#sidebar .thread-link", has_text="Budget 2026")).to_have_count(0)
    expect(labels).to_have_text(["Pinned", "Today"])
    screenshot(page, artifacts_dir / "thread-pinned-archived-desktop.png")

    page.locator("#sidebar").get_by_role("link", name="Archived", exact=True).click()
    expect(page.locator("h1")).to_have_text("Archived threads")
    expect(page.locator(".archived-item")).to_have_count(1)
    screenshot(page, artifacts_dir / "threads-archived-page.png")
    page.locator(".archived-item button", has_text="Unarchive").click()
    expect(page.locator(".archived-empty")).to_have_text("No archived threads.")
    page.goto(nova_app.url + "/threads")
    expect(group(page, "Yesterday").locator(".thread-link")).to_have_text(["Budget 2026"])

    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_contain_text("Search threads")


def test_search_and_groups_on_a_phone(nova_app: LiveNova, page: Page, artifacts_dir: Path) -> None:
    page.set_viewport_size(PHONE)
    nova_app.call(seed_threads(nova_app))  # type: ignore[attr-defined]
    log_in(page, nova_app)
    expect(page.locator("#sidebar")).to_be_hidden()
    page.keyboard.press("Control+K")  # opens the drawer to search
    drawer = page.locator("#sidebar")
    expect(drawer).to_be_visible()
    expect(drawer.locator(".thread-group-label")).to_have_text(["Today", "Yesterday", "Older"])
    screenshot(page, artifacts_dir / "thread-groups-phone.png")
    search = page.locator("#thread-search")
    expect(search).to_be_focused()
    search.press_sequentially("rain", delay=30)
    hit = page.locator("#search-results .search-hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text(["rain"])
    screenshot(page, artifacts_dir / "thread-search-phone.png")
    hit.click()
    expect(drawer).to_be_hidden()
    expect(page.locator("#messages .message.is-found")).to_be_in_viewport()
    screenshot(page, artifacts_dir / "thread-found-phone.png")

    page.locator("#thread-title .thread-more summary").click()
    page.locator("#thread-title button", has_text="Pin").click()
    expect(page.locator("#thread-title .thread-more")).not_to_have_attribute("open", "")  # swapped anew
    page.locator("#drawer-toggle").click()
    expect(search).to_have_value("rain")  # the results wait in the drawer for the next pick
    search.fill("")
    expect(drawer.locator(".thread-group-label").first).to_have_text("Pinned")
    expect(group(page, "Pinned").locator(".thread-link")).to_have_text(["Trip notes"])
    screenshot(page, artifacts_dir / "thread-pinned-phone.png")
