"""A streamed reply in the browser: live tokens, a refresh mid-reply, Stop, a failure."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]


def words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


def open_new_thread(page: Page, live: LiveNova) -> None:
    page.goto(live.url + "/login")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.click("button:has-text('New thread')")
    expect(page).to_have_url(re.compile(r".*/threads/[0-9a-f-]{36}$"))


def send(page: Page, text: str) -> None:
    page.fill("textarea[name=content]", text)
    page.click("#composer button[type=submit]")


def test_reply_streams_survives_a_refresh_and_renders_markdown(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM
) -> None:
    body = words(60) + " **done** <script>window.pwned=1</script>"
    llm.queue(ScriptedReply(text=body, tokens_per_second=25))
    open_new_thread(page, nova_app)
    send(page, "Write slowly")
    streaming = page.locator(".message-streaming .run-text")
    expect(streaming).to_contain_text("w5")  # tokens arrive while the run is going
    page.reload()
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w10")  # text so far, then more
    expect(page.locator(".message-assistant .markdown strong")).to_have_text("done", timeout=15000)
    expect(page.locator(".message-streaming")).to_have_count(0)
    assert page.evaluate("window.pwned") is None
    page.reload()
    expect(page.locator("#messages .message")).to_have_count(2)


def test_stop_keeps_what_was_written(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text=words(500), tokens_per_second=20))
    open_new_thread(page, nova_app)
    send(page, "Go on forever")
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w3")
    page.click(".message-streaming button:has-text('Stop')")
    stopped = page.locator(".message-assistant", has=page.locator(".badge", has_text="Stopped"))
    expect(stopped).to_be_visible(timeout=5000)
    expect(stopped).to_contain_text("w3")
    send(page, "Composer works again")
    expect(page.locator("#messages")).to_contain_text("Composer works again")
    expect(page.locator(".message-streaming")).to_have_count(0)


def test_provider_failure_is_shown_in_the_thread(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(status=401))
    open_new_thread(page, nova_app)
    send(page, "Hello?")
    failure = page.locator(".message-error")
    expect(failure).to_contain_text("The provider rejected the API key.")
    page.reload()
    expect(page.locator(".message-error")).to_contain_text("rejected the API key")
