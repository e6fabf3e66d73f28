"""An htmx action that fails shows a toast; the toast goes away on its button or by itself."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from app.web.errors import GONE
from tests.fixtures.live import LiveNova
from tests.fixtures.nova import PASSWORD


def test_renaming_a_thread_another_tab_deleted_shows_a_toast(nova_app: LiveNova, page: Page, tmp_path: Path) -> None:
    page.clock.install()  # the toast's timer, run forward below instead of waited for
    page.goto(nova_app.url + "/login")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.click("button:has-text('New thread')")
    expect(page).to_have_url(re.compile(r".*/threads/[0-9a-f-]{36}$"))
    thread_url = page.url

    other_tab = page.context.new_page()
    other_tab.goto(thread_url + "/delete")
    other_tab.click("button:has-text('Delete thread')")
    expect(other_tab).not_to_have_url(thread_url + "/delete")
    other_tab.close()

    page.fill("#thread-title-input", "Renamed")
    page.click("#thread-title button:has-text('Rename')")
    toast = page.locator("#toasts .toast")
    expect(toast).to_have_count(1)
    expect(toast.get_by_role("alert")).to_have_text(GONE)
    expect(page.locator("#thread-title-input")).to_have_value("Renamed")  # the page is left as it was
    page.screenshot(path=str(tmp_path / "toast.png"))

    toast.get_by_role("button", name="Dismiss this message").click()
    expect(toast).to_have_count(0)

    page.click("#thread-title button:has-text('Rename')")
    expect(toast).to_have_count(1)
    toast.hover()
    page.clock.run_for(30_000)
    expect(toast).to_have_count(1)  # not while someone is reading it
    page.mouse.move(5, 600)
    page.clock.run_for(9_000)
    expect(toast).to_have_count(0)
