"""Keyboard shortcuts and their "?" help, visible focus, and axe-core on the main pages."""

from __future__ import annotations

import re
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_mobile import screenshot
from tests.browser.test_streaming import open_new_thread, words
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"
THREAD_URL = re.compile(r".*/threads/[0-9a-f-]{36}$")


def blur(page: Page) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")


def test_keyboard_shortcuts_and_their_help(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path
) -> None:
    open_new_thread(page, nova_app)
    first_url = page.url
    content = page.locator("#composer-content")
    dialog = page.locator("#shortcuts")

    content.press("?")  # typed, in a text field
    expect(content).to_have_value("?")
    expect(dialog).to_be_hidden()
    content.fill("")

    blur(page)
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    for action in ("New thread", "focus the composer", "Stop the reply"):
        expect(dialog).to_contain_text(action)
    screenshot(page, artifacts_dir / "keyboard-help.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    help_button = page.locator(".help-button")
    expect(help_button).to_have_accessible_name("Keyboard shortcuts")
    help_button.click()
    expect(dialog).to_be_visible()
    dialog.locator("button", has_text="Close").click()
    expect(dialog).to_be_hidden()
    expect(help_button).to_be_focused()  # focus goes back where it was

    page.keyboard.press("Shift+Escape")
    expect(content).to_be_focused()
    blur(page)
    page.keyboard.press("/")
    expect(content).to_be_focused()
    expect(content).to_have_value("")  # taken as a shortcut, not typed

    # Esc stops the reply being written, but first closes whatever is open over the page.
    llm.queue(ScriptedReply(text=words(500), tokens_per_second=20))
    content.fill("Go on")
    content.press("Enter")
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w3")
    help_button.click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(".message-streaming")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(".message-assistant .badge", has_text="Stopped")).to_be_visible(timeout=5000)

    page.locator("#composer-content").focus()
    page.keyboard.press("Control+Shift+O")
    expect(page).to_have_url(THREAD_URL)
    expect(page).not_to_have_url(first_url)
    expect(page.locator("#messages .message")).to_have_count(0)
    second_url = page.url
    page.goto(nova_app.url + "/agents")  # it works from every page
    page.keyboard.press("Meta+Shift+O")
    expect(page).to_have_url(THREAD_URL)
    expect(page).not_to_have_url(second_url)


def focus_ring(page: Page) -> dict[str, str]:
    return dict(
        page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                       return {element: e.outerHTML.slice(0, 120), shadow: s.boxShadow,
                               outline: s.outlineStyle + ' ' + s.outlineWidth}; }"""
        )
    )


def test_every_control_shows_where_focus_is(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Here:\n\n```python\nprint('hi')\n```"))
    open_new_thread(page, nova_app)
    page.locator("#composer-content").fill("Code please")
    page.locator("#composer-content").press("Enter")
    expect(page.locator(".message-assistant .code-block .copy-button")).to_be_visible()
    for path in ("", "/agents", "/providers"):
        if path:
            page.goto(nova_app.url + path)
        blur(page)
        seen = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            ring = focus_ring(page)
            if ring["element"] in seen:
                break  # round the page once
            seen.add(ring["element"])
            if ring["element"].startswith("<body"):
                continue
            # Either the ring (a box-shadow) or an outline of its own.
            assert ring["shadow"] != "none" or not ring["outline"].startswith("none"), ring
        assert len(seen) > 5


# ---------- axe-core ----------

AXE = next(VENDOR.glob("axe-core-*.min.js"))
BLOCKING = {"serious", "critical"}
MARKDOWN_REPLY = "# Plan\n\nSome **bold** text.\n\n```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"


def axe_violations(page: Page, url: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # By URL, not by path=: Playwright would inline the file, and the CSP refuses inline scripts.
        page.add_script_tag(url=f"{url}/static/vendor/{AXE.name}")
    found = page.evaluate(
        """async () => {
             const results = await axe.run(document, {resultTypes: ['violations']});
             return results.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary),
             }));
           }"""
    )
    return [v for v in found if v["impact"] in BLOCKING]


def check(page: Page, url: str, label: str, failures: dict[str, list[dict[str, Any]]]) -> None:
    for scheme in ("light", "dark"):
        # Reduced motion turns transitions off (app.css): axe must not sample colours mid-way.
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        violations = axe_violations(page, url)
        if violations:
            failures[f"{label} ({scheme})"] = violations
    page.emulate_media(color_scheme="light")


def test_axe_finds_nothing_serious_on_the_main_pages(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    url, failures = nova_app.url, dict[str, list[dict[str, Any]]]()
    page.goto(url + "/login")
    check(page, url, "login", failures)

    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/threads$"))
    check(page, url, "threads", failures)

    llm.queue(ScriptedReply(text=MARKDOWN_REPLY))
    page.click("button:has-text('New thread')")
    expect(page).to_have_url(THREAD_URL)
    check(page, url, "empty thread", failures)
    page.locator("#composer-content").fill("Plan it")
    page.locator("#composer-content").press("Enter")
    expect(page.locator(".message-assistant .code-block")).to_be_visible(timeout=15000)
    expect(page.locator(".message-streaming")).to_have_count(0)
    page.locator(".trace-details summary").first.click()  # the reply's trace, loaded on demand
    expect(page.locator(".trace-body").first).not_to_have_text("Loading…")
    check(page, url, "thread", failures)
    page.locator(".help-button").click()
    check(page, url, "keyboard help", failures)
    page.keyboard.press("Escape")

    page.set_viewport_size({"width": 390, "height": 844})
    check(page, url, "thread on a phone", failures)
    page.locator("#drawer-toggle").click()
    check(page, url, "thread list drawer", failures)
    page.keyboard.press("Escape")
    page.set_viewport_size({"width": 1280, "height": 720})

    for path in ("/providers", "/agents", "/tools", "/memory", "/tokens", "/settings"):
        page.goto(url + path)
        check(page, url, path, failures)
    assert failures == {}, pformat(failures, width=120)
