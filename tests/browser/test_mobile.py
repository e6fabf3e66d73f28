"""The thread page on a phone (390 by 844): one column, a compact top bar with a menu, the
thread list in a drawer, the messages taking the height and the composer at the bottom."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FloatRect, Page, ViewportSize, expect

from tests.browser.test_chat_comforts import seed_long_thread
from tests.browser.test_streaming import open_new_thread, words
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE: ViewportSize = {"width": 390, "height": 844}


def log_in(page: Page, live: LiveNova) -> None:
    page.goto(live.url + "/login")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/threads$"))


def screenshot(page: Page, path: Path) -> None:
    # caret="hide" would leave style="" on every field, which htmx then copies onto the
    # fields it swaps in: a CSP violation that is the screenshot's doing, not Nova's.
    page.screenshot(path=str(path), caret="initial")


def box(page: Page, selector: str) -> FloatRect:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not drawn"
    return found


def test_the_thread_page_on_a_phone(nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path) -> None:
    page.set_viewport_size(PHONE)
    first_id = str(nova_app.call(nova_app.new_thread()))  # type: ignore[attr-defined]
    long_id = seed_long_thread(nova_app)
    first_url = f"{nova_app.url}/threads/{first_id}"
    log_in(page, nova_app)
    expect(page.locator("#sidebar")).to_be_hidden()  # the list waits in its drawer
    expect(page.locator(".empty-state h1")).to_be_in_viewport()
    screenshot(page, artifacts_dir / "mobile-threads.png")
    page.goto(f"{nova_app.url}/threads/{long_id}")

    # One column: the newest message and the whole composer show without scrolling the page.
    newest = page.locator("#messages .message").last
    expect(newest).to_be_in_viewport(ratio=0.95)
    expect(page.locator("#sidebar")).to_be_hidden()
    assert page.evaluate("document.scrollingElement.scrollHeight") <= PHONE["height"]
    composer = box(page, "#composer")
    assert composer["y"] + composer["height"] <= PHONE["height"]
    expect(page.locator(".composer-send")).to_be_in_viewport()
    assert box(page, "#messages")["height"] > 450  # the messages take the height
    assert box(page, ".topbar")["height"] < 60  # a compact top bar, the nav behind Menu
    expect(page.locator(".mainnav")).to_be_hidden()
    screenshot(page, artifacts_dir / "mobile-thread.png")
    page.set_viewport_size({"width": 390, "height": 480})  # a keyboard opens (resizes-content)
    expect(newest).to_be_in_viewport(ratio=0.95)
    expect(page.locator(".composer-send")).to_be_in_viewport()
    page.set_viewport_size(PHONE)

    menu = page.locator("#menu-toggle")
    expect(menu).to_have_attribute("aria-controls", "topbar-menu")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".mainnav a", has_text="Agents")).to_be_visible()
    expect(page.locator(".topbar-menu button", has_text="Log out")).to_be_visible()
    screenshot(page, artifacts_dir / "mobile-menu.png")
    page.keyboard.press("Tab")  # a disclosure: the panel comes next in the tab order
    expect(page.locator(".mainnav a").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".mainnav")).to_be_hidden()
    expect(menu).to_be_focused()

    # The drawer: opened by its button, closed by Escape, its Close button or the backdrop.
    toggle = page.locator("#drawer-toggle")
    expect(toggle).to_have_attribute("aria-controls", "sidebar")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    drawer = page.locator("#sidebar")
    expect(drawer).to_be_in_viewport()
    expect(drawer.locator(".thread-link")).to_have_count(2)
    expect(drawer.locator(".thread-link[aria-current=page]")).to_be_focused()
    assert page.evaluate("document.querySelector('.thread-main').inert")  # modal while open
    page.wait_for_timeout(300)  # the slide-in
    screenshot(page, artifacts_dir / "mobile-drawer.png")
    page.emulate_media(color_scheme="dark", reduced_motion="reduce")  # no colours mid-transition
    screenshot(page, artifacts_dir / "mobile-drawer-dark.png")
    page.emulate_media(color_scheme="light", reduced_motion="no-preference")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(toggle).to_be_focused()
    assert not page.evaluate("document.querySelector('.thread-main').inert")

    toggle.click()
    drawer.locator(".drawer-close").click()
    expect(drawer).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.click()
    page.mouse.click(PHONE["width"] - 10, PHONE["height"] // 2)  # the backdrop
    expect(drawer).to_be_hidden()

    # Picking a thread opens it and leaves the drawer closed.
    toggle.click()
    drawer.locator(f".thread-link[href$='{first_id}']").click()
    expect(page).to_have_url(first_url)
    expect(page.locator("#drawer-toggle")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#composer-content")).to_be_in_viewport()

    # A reply is followed on a phone too: the newest text stays in sight.
    page.goto(f"{nova_app.url}/threads/{long_id}")
    llm.queue(ScriptedReply(text=" \n\n".join(words(200).split()), tokens_per_second=40))
    page.locator("#composer-content").fill("Follow me on a phone")
    page.locator("#composer-content").press("Enter")
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w40")
    expect(page.locator(".message-streaming .run-text p").last).to_be_in_viewport()
    page.locator(".composer-stop").click()
    expect(page.locator(".message-streaming")).to_have_count(0)


def test_the_other_pages_on_a_phone_keep_the_top_bar(nova_app: LiveNova, page: Page) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, nova_app)
    page.goto(f"{nova_app.url}/agents")
    page.mouse.wheel(0, 2000)
    expect(page.locator(".topbar")).to_be_in_viewport()  # sticky: it never scrolls away
    page.locator("#menu-toggle").click()
    page.locator(".mainnav a", has_text="Providers").click()
    expect(page).to_have_url(re.compile(r".*/providers$"))
    expect(page.locator("#menu-toggle")).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".mainnav")).to_be_hidden()


def test_without_javascript_a_phone_still_shows_the_nav_and_the_list(nova_app: LiveNova, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, nova_app)
        # No button could open the menu or the drawer: both stay in the page, as before.
        expect(page.locator("#menu-toggle")).to_be_hidden()
        expect(page.locator("#drawer-toggle")).to_be_hidden()
        expect(page.locator(".mainnav a", has_text="Agents")).to_be_visible()
        expect(page.locator("#sidebar button", has_text="New thread")).to_be_visible()
    finally:
        context.close()


def test_wide_screens_keep_the_two_columns(nova_app: LiveNova, page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    open_new_thread(page, nova_app)
    expect(page.locator("#sidebar")).to_be_visible()
    expect(page.locator(".mainnav a", has_text="Agents")).to_be_visible()
    expect(page.locator("#menu-toggle")).to_be_hidden()
    expect(page.locator("#drawer-toggle")).to_be_hidden()
    expect(page.locator("#sidebar .drawer-close")).to_be_hidden()
    sidebar, main = box(page, "#sidebar"), box(page, ".thread-main")
    assert sidebar["x"] + sidebar["width"] <= main["x"] + 1  # side by side
