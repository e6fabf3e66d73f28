"""The Settings page in a real browser: the theme painted by the server on every page (the
thread page kept as light and dark screenshots), the default agent new threads start with, and
sessions ended from another browser; on a desktop and on a phone (390 by 844)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.test_first_minutes import log_in
from tests.browser.test_streaming import send
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
DARK_BACKGROUND, LIGHT_BACKGROUND = "rgb(17, 20, 24)", "rgb(246, 247, 249)"  # --bg in dark.css, app.css


def open_settings(page: Page) -> None:
    """Through the menu, as a person would (behind the Menu button on a phone)."""
    if page.locator("#menu-toggle").is_visible():
        page.locator("#menu-toggle").click()
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()


def choose_theme(page: Page, label: str) -> None:
    open_settings(page)
    page.get_by_label(label).check()
    # A page that said "Theme saved." already must not pass for the next one: wait for it to load.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Save theme").click()
    expect(page.locator("#appearance .success")).to_have_text("Theme saved.")


def background(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


def full_screenshot(page: Page, path: Path) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the saved section's anchor scrolled the page
    page.screenshot(path=str(path), full_page=True, caret="initial")


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@pytest.mark.console_errors(r"ERR_FAILED|htmx:afterRequest|htmx:sendError")  # the rename sent nowhere
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_theme_is_the_users_choice_on_every_page(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path, viewport: ViewportSize
) -> None:
    size = "desktop" if viewport is DESKTOP else "phone"
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme="light", reduced_motion="reduce")  # the device prefers light
    log_in(page, nova_app, "ada@example.com")
    llm.queue(ScriptedReply(text="Here is some code:\n\n```python\nprint('hi')\n```\n\nAnd a `name`."))
    page.locator(".empty-state").get_by_role("button", name="New thread").click()
    send(page, "Show me code")
    expect(page.locator(".message-assistant .code-block")).to_be_visible(timeout=15000)
    thread_url = page.url
    assert background(page) == LIGHT_BACKGROUND
    page.screenshot(path=str(artifacts_dir / f"thread-theme-light-{size}.png"), caret="initial")

    choose_theme(page, "Dark")
    no_sideways_scroll(page)
    full_screenshot(page, artifacts_dir / f"settings-dark-{size}.png")
    for path in ("/providers", "/agents", "/tools", "/memory", "/tokens"):
        page.goto(nova_app.url + path)
        assert page.locator("html").get_attribute("data-theme") == "dark"
        assert background(page) == DARK_BACKGROUND, path  # though the device prefers light
    page.goto(thread_url)
    # The first frame is dark: the server chose the stylesheet, no script repaints the page.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.code-block pre')).backgroundColor")
        != "rgb(244, 245, 247)"
    )
    assert background(page) == DARK_BACKGROUND
    page.screenshot(path=str(artifacts_dir / f"thread-theme-dark-{size}.png"), caret="initial")
    # A toast in the dark theme: a rename whose request never reaches Nova.
    page.route("**/rename", lambda route: route.abort())
    if page.locator("#thread-title-input").is_hidden():
        page.locator("#thread-title button:has-text('Rename')").click()
    page.fill("#thread-title-input", "Renamed offline")
    page.locator("#thread-title button:has-text('Rename')").click()
    expect(page.locator("#toasts .toast")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / f"thread-theme-dark-toast-{size}.png"), caret="initial")
    page.unroute("**/rename")

    page.emulate_media(color_scheme="dark")  # now the device prefers dark, the user light
    choose_theme(page, "Light")
    assert background(page) == LIGHT_BACKGROUND
    full_screenshot(page, artifacts_dir / f"settings-light-{size}.png")
    choose_theme(page, "Same as this device")
    assert background(page) == DARK_BACKGROUND


def test_the_default_agent_and_timezone_are_saved_for_new_threads(nova_app: LiveNova, page: Page) -> None:
    log_in(page, nova_app, "ada@example.com")
    page.get_by_role("link", name="Agents").click()
    page.get_by_role("link", name="New agent").click()
    page.fill("input[name=name]", "Researcher")
    page.fill("textarea[name=instructions]", "Dig deep.")
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/agents$"))

    open_settings(page)
    expect(page.get_by_label("Default agent").locator("option:checked")).to_have_text("Helper")
    page.get_by_label("Default agent").select_option(label="Researcher")
    page.get_by_label("Timezone").select_option("Europe/Paris")
    page.get_by_role("button", name="Save defaults").click()
    expect(page.locator("#defaults .success")).to_have_text("Defaults saved.")
    expect(page.get_by_label("Timezone")).to_have_value("Europe/Paris")
    page.goto(nova_app.url + "/threads")
    page.locator(".empty-state").get_by_role("button", name="New thread").click()
    expect(page.locator("#composer select[name=agent_id] option:checked")).to_have_text("Researcher")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_another_session_is_listed_and_ended(
    nova_app: LiveNova, page: Page, browser: Browser, artifacts_dir: Path, viewport: ViewportSize
) -> None:
    other = browser.new_context(user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 "
                                           "Mobile/15E148 Safari/604.1")  # fmt: skip
    phone = other.new_page()
    log_in(phone, nova_app, "ada@example.com")

    page.set_viewport_size(viewport)
    log_in(page, nova_app, "ada@example.com")
    open_settings(page)
    sessions = page.locator("#sessions .session-item")
    expect(sessions).to_have_count(2)
    expect(sessions.first).to_contain_text("This session")
    expect(sessions.nth(1)).to_contain_text("Safari on iPhone")
    no_sideways_scroll(page)
    page.locator("#sessions").screenshot(
        path=str(artifacts_dir / f"settings-sessions-{viewport['width']}.png"), caret="initial"
    )
    sessions.nth(1).get_by_role("button", name="End session").click()
    expect(page.locator("#sessions .success")).to_have_text("Signed out.")
    expect(sessions).to_have_count(1)

    phone.reload()
    expect(phone).to_have_url(re.compile(r".*/login\?next=%2Fthreads$"))
    other.close()
    page.reload()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()  # still signed in here


@pytest.mark.console_errors(r"status of 400")  # the wrong current password
def test_a_refused_password_change_keeps_the_page_and_says_why(nova_app: LiveNova, page: Page) -> None:
    log_in(page, nova_app, "ada@example.com")
    open_settings(page)
    page.get_by_label("Current password").fill("not it")
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("Repeat the new password").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#field-current_password-error")).to_have_text("This is not your current password.")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("Repeat the new password").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password .success")).to_contain_text("Password changed.")
    page.get_by_role("button", name="Log out").click()  # the new session's forms work
    expect(page).to_have_url(re.compile(r".*/login$"))
