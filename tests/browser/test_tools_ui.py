"""Tools in the browser: a step appears live, an approval card is answered, Details opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_streaming import open_new_thread, send
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.tools.conftest import give_tools

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_step_approval_and_details(nova_app: LiveNova, page: Page, llm: ScriptedLLM, tmp_path: Path) -> None:
    nova_app.call(give_tools(nova_app, {"datetime_now": True, "web_fetch": False}))  # type: ignore[attr-defined]
    llm.queue(
        ScriptedReply(tool_calls=[("web_fetch", {"url": "http://10.0.0.1/"})]),
        ScriptedReply(tool_calls=[("datetime_now", {})]),
        ScriptedReply(text_from=lambda body: "The time: " + last_tool_result(body), tokens_per_second=20),
    )  # fmt: skip
    open_new_thread(page, nova_app)
    send(page, "What time is it?")
    step = page.locator("#messages .step").first
    expect(step).to_contain_text("Reading http://10.0.0.1/")
    expect(step).to_contain_text("failed")
    card = page.locator(".pause-card")
    expect(card).to_contain_text("Approve this action?")
    expect(card).to_contain_text("Checking the date and time")
    page.reload()
    expect(page.locator(".pause-card")).to_contain_text("Approve this action?")  # survives a refresh
    page.click(".pause-card button:has-text('Approve')")
    expect(page.locator(".message-assistant .markdown")).to_contain_text("The time:", timeout=15000)
    page.click(".message-assistant .trace-details summary")
    trace = page.locator(".trace-body")
    expect(trace).to_contain_text("Checking the date and time")
    expect(trace).to_contain_text("Model call")
    page.screenshot(path=str(tmp_path / "tools.png"), full_page=True)
