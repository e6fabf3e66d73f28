"""After a reply: the thread's generated title arrives in the header, tab and sidebar without a
reload; the reply shows its tokens, time to first token, speed and a link to its trace, whose
model calls name their model."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_streaming import open_new_thread, send
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_the_first_reply_names_the_thread_live_and_shows_its_stats(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM
) -> None:
    llm.queue(ScriptedReply(text="Paris has been the capital since the year 987.", tokens_per_second=40))
    # Slow enough to see the title from the message first; the reply must not wait for it.
    llm.queue_title(ScriptedReply(text='"Capital of France"', first_token_delay=1.5))
    open_new_thread(page, nova_app)
    page.evaluate("window.sameDocument = true")
    send(page, "What is the capital of France?")
    active = page.locator("#sidebar .thread-link.active")
    expect(active).to_have_text("What is the capital of France?")
    reply = page.locator("#messages .message-assistant").last
    stats = reply.locator(".message-stats")
    expect(stats).to_contain_text("tokens/s")
    expect(page.locator("#thread-title-input")).not_to_have_value("Capital of France")  # the reply came first

    expect(page.locator("#thread-title-input")).to_have_value("Capital of France", timeout=10_000)
    expect(active).to_have_text("Capital of France")
    expect(page).to_have_title("Capital of France · Nova")
    assert page.evaluate("window.sameDocument") is True  # swapped in, not a reload

    expect(stats).to_contain_text(re.compile(r"10 → \d+ tokens"))
    expect(stats).to_contain_text(re.compile(r"\d\.\d\d s to first token"))
    expect(stats).to_contain_text(re.compile(r"\d+\.\d tokens/s"))
    expect(stats.get_by_role("link", name="Trace")).to_have_attribute("href", re.compile(r"/runs/[0-9a-f-]{36}/trace$"))
    reply.locator(".trace-details summary").click()
    expect(reply.locator(".trace-body .trace-model")).to_contain_text(re.compile(r"scripted-small .* tokens/s"))
