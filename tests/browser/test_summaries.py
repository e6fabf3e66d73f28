"""The summary of earlier messages in a browser: a thread longer than its model's window gets
one, shown closed after the last message it covers, opened to read (Markdown), on a desktop
and on a phone."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from app.db import utcnow
from app.models import Message, MessageRole, Provider
from tests.browser.test_mobile import PHONE, log_in, screenshot
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply

pytestmark = [pytest.mark.browser, pytest.mark.live]

SUMMARY = (
    "The user is planning **a week in Lyon** in May:\n\n"
    "- Days 1 to 3: the old town, Fourvière and the traboules.\n"
    "- A *bouchon* dinner is booked for day 2.\n"
    "- Still open: a day trip to Annecy or Pérouges."
)


def seed_long_thread(live: LiveNova, exchanges: int = 14) -> str:
    """A thread longer than a 2048-token window, for the agent of the seeded user."""

    async def seed() -> str:
        thread_id = uuid.UUID(await live.new_thread())
        start = utcnow() - timedelta(hours=1)
        async with live.db.transaction() as session:
            mine = Provider.owner_id == live.user_id
            await session.execute(update(Provider).where(mine).values(max_context_tokens=2048))
            for n in range(exchanges):
                question = f"Day {n + 1} in Lyon: what should we see? " + "We like old streets and food. " * 12
                for offset, (role, text) in enumerate(
                    [(MessageRole.USER, question), (MessageRole.ASSISTANT, f"For day {n + 1}: the old town.")]
                ):
                    at = start + timedelta(seconds=2 * n + offset)
                    session.add(Message(thread_id=thread_id, role=role, content=text, created_at=at))
        return str(thread_id)

    return str(live.call(seed()))  # type: ignore[attr-defined]


def test_the_summary_of_earlier_messages_on_a_desktop_and_a_phone(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path
) -> None:
    llm.summaries.clear()
    llm.summary_requests.clear()
    thread_id = seed_long_thread(nova_app)
    llm.queue_summary(ScriptedReply(text=SUMMARY))
    llm.queue(ScriptedReply(text="Pérouges is closer: an hour by train."))
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, nova_app)
    page.goto(f"{nova_app.url}/threads/{thread_id}")
    expect(page.locator("details.context-summary")).to_have_count(0)  # all of it still fits
    page.fill("#composer-content", "Annecy or Pérouges for a day trip?")
    page.click("#composer .composer-send")
    expect(page.locator("#messages .message-assistant").last).to_contain_text("an hour by train", timeout=20_000)
    assert len(llm.summary_requests) == 1

    page.reload()
    summary = page.locator("details.context-summary")
    expect(summary).to_have_count(1)
    expect(summary).not_to_have_attribute("open", re.compile(".*"))
    expect(summary.locator("summary")).to_contain_text("Summary of earlier messages")
    # Right after the last message it covers; the newest ones follow it.
    covered = summary.locator("xpath=preceding-sibling::article[1]")
    expect(covered).to_have_class(re.compile("message-assistant"))
    expect(summary.locator("xpath=following-sibling::article[1]")).to_have_class(re.compile("message-user"))
    expect(summary.locator(".markdown")).not_to_be_visible()
    summary.locator("summary").click()
    expect(summary.locator(".markdown strong")).to_have_text("a week in Lyon")
    expect(summary.locator(".markdown li")).to_have_count(3)
    summary.scroll_into_view_if_needed()
    screenshot(page, artifacts_dir / "summary-desktop.png")

    page.set_viewport_size(PHONE)
    page.reload()
    summary = page.locator("details.context-summary")
    summary.locator("summary").click()
    summary.scroll_into_view_if_needed()
    expect(summary.locator(".markdown li").first).to_be_visible()
    drawn = summary.bounding_box()
    assert drawn is not None and drawn["x"] >= 0 and drawn["x"] + drawn["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, artifacts_dir / "summary-phone.png")
