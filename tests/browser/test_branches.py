"""Edit and regenerate with branches in a browser: the earlier version stays a click away
(1/2), the next reply's history follows the branch shown, and "Delete from here" keeps
the other versions; with htmx on a desktop and a phone, and as plain forms without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.test_mobile import PHONE, log_in, screenshot
from tests.browser.test_streaming import open_new_thread
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply

pytestmark = [pytest.mark.browser, pytest.mark.live]


def send(page: Page, text: str, reply: str) -> None:
    page.fill("#composer-content", text)
    page.click("#composer .composer-send")
    # A cold server's first run imports the model's libraries in-process: give it time.
    expect(replies(page).last).to_contain_text(reply, timeout=20_000)
    expect(page.locator(".message-streaming")).to_have_count(0)


def replies(page: Page) -> Locator:
    return page.locator("#messages .message-assistant:not(.message-streaming)")


def questions(page: Page) -> Locator:
    return page.locator("#messages .message-user")


def history(llm: ScriptedLLM) -> list[str]:
    """What the last reply was asked with, after the agent's instructions."""
    return [m["content"] for m in llm.requests[-1]["messages"] if m["role"] != "system"]


def reload_until(page: Page, done: Callable[[], bool]) -> None:
    """Without JavaScript nothing streams: the page is read again until the reply is written."""
    for _ in range(100):
        if done():
            return
        page.wait_for_timeout(100)
        page.reload()
    raise AssertionError("the reply was never written")


def test_edit_regenerate_switch_and_delete_on_a_desktop(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    llm.queue(*(ScriptedReply(text=t) for t in ("Four.", "Four, again.", "Six.", "Twelve.")))
    open_new_thread(page, nova_app)
    send(page, "What is 2+2?", "Four.")

    replies(page).last.get_by_role("button", name="Regenerate").click()
    expect(replies(page)).to_have_count(1)  # the new reply takes the old one's place
    expect(replies(page).last).to_contain_text("Four, again.")
    expect(replies(page).last.locator(".message-version-count")).to_have_text("2/2")
    assert history(llm) == ["What is 2+2?"]
    replies(page).last.get_by_role("button", name="Previous version").click()
    expect(replies(page).last).to_contain_text("Four.")
    expect(replies(page).last.locator(".message-version-count")).to_have_text("1/2")

    question = questions(page).first
    question.locator(".message-edit > summary").click()
    editor = question.locator(".message-edit-form textarea")
    expect(editor).to_have_value("What is 2+2?")
    editor.fill("What is 3+3?")
    question.get_by_role("button", name="Save and send").click()
    expect(replies(page).last).to_contain_text("Six.")
    expect(questions(page)).to_have_count(1)
    expect(questions(page).first).to_contain_text("What is 3+3?")
    expect(questions(page).first.locator(".message-version-count")).to_have_text("2/2")
    assert history(llm) == ["What is 3+3?"]

    send(page, "And doubled?", "Twelve.")
    assert history(llm) == ["What is 3+3?", "Six.", "And doubled?"]
    questions(page).first.scroll_into_view_if_needed()
    screenshot(page, artifacts_dir / "branches-desktop.png")

    # The first version of the question, with the reply last shown under it.
    questions(page).first.get_by_role("button", name="Previous version").click()
    expect(questions(page).first).to_contain_text("What is 2+2?")
    expect(questions(page)).to_have_count(1)
    expect(replies(page).last).to_contain_text("Four, again.")
    page.reload()  # the choice is kept: the page opens at the branch shown
    expect(replies(page).last).to_contain_text("Four, again.")

    page.once("dialog", lambda dialog: dialog.accept())
    replies(page).last.get_by_role("link", name="Delete from here").click()
    expect(replies(page)).to_have_count(1)
    expect(replies(page).last).to_contain_text("Four.")  # its other version shows instead
    expect(replies(page).last.locator(".message-versions")).to_have_count(0)

    llm.queue(ScriptedReply(text="Eight."))
    send(page, "Plus four?", "Eight.")
    assert history(llm) == ["What is 2+2?", "Four.", "Plus four?"]
    questions(page).first.get_by_role("button", name="Next version").click()
    expect(page.locator("#messages .message")).to_have_count(4)  # 3+3 with its own branch
    expect(replies(page).last).to_contain_text("Twelve.")


def test_versions_on_a_phone(nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path) -> None:
    page.set_viewport_size(PHONE)
    llm.queue(ScriptedReply(text="A short first answer."), ScriptedReply(text="A second, different answer."))
    log_in(page, nova_app)
    page.goto(f"{nova_app.url}/threads/{nova_app.call(nova_app.new_thread())}")  # type: ignore[attr-defined]
    send(page, "Tell me something.", "A short first answer.")
    replies(page).last.get_by_role("button", name="Regenerate").click()
    expect(replies(page).last).to_contain_text("A second, different answer.")
    actions = replies(page).last.locator(".message-actions")
    expect(actions.locator(".message-version-count")).to_have_text("2/2")
    box = actions.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    questions(page).first.locator(".message-edit > summary").click()
    expect(questions(page).first.locator(".message-edit-form textarea")).to_be_visible()
    screenshot(page, artifacts_dir / "branches-phone.png")


def test_without_javascript_forms_and_pages_do_it(
    nova_app: LiveNova, browser: Browser, page: Page, llm: ScriptedLLM
) -> None:
    """Plain forms: a version switch and an edit come back after a redirect, Delete asks on a page."""
    llm.queue(ScriptedReply(text="First."), ScriptedReply(text="Second."))
    open_new_thread(page, nova_app)  # with JavaScript, to write the first reply and its regeneration
    send(page, "Hello?", "First.")
    replies(page).last.get_by_role("button", name="Regenerate").click()
    expect(replies(page).last).to_contain_text("Second.")
    url = page.url

    context = browser.new_context(java_script_enabled=False)
    try:
        plain = context.new_page()
        log_in(plain, nova_app)
        plain.goto(url)
        reply = plain.locator("#messages .message-assistant")
        expect(reply.locator(".message-version-count")).to_have_text("2/2")
        reply.get_by_role("button", name="Previous version").click()
        expect(plain).to_have_url(url)
        expect(reply).to_contain_text("First.")

        plain.locator("#messages .message-user .message-edit > summary").click()
        plain.get_by_role("link", name="Edit this message").click()
        expect(plain.get_by_role("heading", name="Edit your message")).to_be_visible()
        llm.queue(ScriptedReply(text="Third."))
        plain.locator("textarea[name=content]").fill("Hello again?")
        plain.get_by_role("button", name="Save and send").click()
        expect(plain).to_have_url(url)
        expect(plain.locator("#messages .message-user")).to_contain_text("Hello again?")
        reload_until(plain, lambda: plain.locator("#messages .message-streaming").count() == 0)
        expect(plain.locator("#messages .message-assistant")).to_contain_text("Third.")

        plain.get_by_role("link", name="Delete from here").first.click()
        expect(plain).to_have_url(re.compile(r"/messages/[0-9a-f-]{36}/delete$"))
        expect(plain.locator(".message-quote")).to_have_text("Hello again?")
        plain.get_by_role("button", name="Delete from here").click()
        expect(plain).to_have_url(url)
        expect(plain.locator("#messages .message-user")).to_contain_text("Hello?")  # the first version
    finally:
        context.close()
