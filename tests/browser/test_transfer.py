"""Export and import in a browser: a thread's Export menu downloads its Markdown and JSON, the
Import page takes that JSON back as a new thread that opens with its messages (and ChatGPT's
conversations.json as several), a bad file is refused in the form; on a desktop and a phone."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.models import FinishReason, Message, MessageRole, Thread
from tests.browser.test_mobile import PHONE, log_in, screenshot
from tests.fixtures.live import LiveNova

pytestmark = [pytest.mark.browser, pytest.mark.live]

CHATGPT = Path(__file__).resolve().parents[1] / "transfer" / "chatgpt_conversations.json"


async def seed_thread(live: LiveNova) -> uuid.UUID:
    """Ada's "Sourdough starter" thread: a question, a reply, and a regenerated reply (shown)."""
    start = utcnow() - timedelta(minutes=30)
    async with live.db.transaction() as session:
        thread = Thread(owner_id=live.user_id, title="Sourdough starter", title_by_user=True)
        session.add(thread)
        await session.flush()
        question = Message(thread_id=thread.id, role=MessageRole.USER, created_at=start,
                           content="How often should I feed my sourdough starter?")  # fmt: skip
        session.add(question)
        await session.flush()
        for n, text in enumerate(
            ["Once a day at room temperature.", "Twice a day while it is young; weekly from the fridge."]
        ):
            session.add(Message(thread_id=thread.id, role=MessageRole.ASSISTANT, parent_id=question.id, content=text,
                                finish_reason=FinishReason.STOP, created_at=start + timedelta(minutes=n + 1)))  # fmt: skip
        return thread.id


@pytest.mark.console_errors(r"status of 422")  # the file refused on purpose
def test_export_and_import_on_a_desktop(nova_app: LiveNova, page: Page, artifacts_dir: Path, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    thread_id = nova_app.call(seed_thread(nova_app))  # type: ignore[attr-defined]
    log_in(page, nova_app)
    page.goto(f"{nova_app.url}/threads/{thread_id}")
    page.locator("#thread-title .thread-more summary").click()
    expect(page.get_by_role("link", name="Export as JSON")).to_be_visible()
    screenshot(page, artifacts_dir / "transfer-export-menu-desktop.png")

    with page.expect_download() as markdown_download:
        page.get_by_role("link", name="Export as Markdown").click()
    assert markdown_download.value.suggested_filename == "Sourdough starter.md"  # filename*: the title itself
    markdown = Path(markdown_download.value.path()).read_text()
    assert markdown.startswith("# Sourdough starter") and "weekly from the fridge" in markdown
    assert "Once a day" not in markdown  # the branch shown only
    with page.expect_download() as json_download:
        page.get_by_role("link", name="Export as JSON").click()
    assert json_download.value.suggested_filename == "Sourdough starter.json"
    exported = tmp_path / "Sourdough-starter.json"
    json_download.value.save_as(exported)
    assert len(json.loads(exported.read_text())["messages"]) == 3

    page.locator("#sidebar").get_by_role("link", name="Import threads").click()
    expect(page.get_by_role("heading", name="Import threads")).to_be_visible()
    not_json = tmp_path / "notes.json"
    not_json.write_text("these are my notes, not JSON")
    page.set_input_files("#import-file", str(not_json))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-file-error")).to_contain_text("The file is not JSON")
    expect(page.locator("#import-form .htmx-indicator")).to_have_css("opacity", "0")  # no longer "Importing…"
    screenshot(page, artifacts_dir / "transfer-import-refused-desktop.png")

    page.set_input_files("#import-file", str(exported))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page).not_to_have_url(re.compile(rf".*/threads/({thread_id})?(import)?$"))
    expect(page).to_have_url(re.compile(r".*/threads/[0-9a-f-]{36}$"))
    expect(page.locator("#thread-title-input")).to_have_value("Sourdough starter")
    expect(page.locator("#messages .message")).to_have_count(2)
    expect(page.locator("#messages")).to_contain_text("weekly from the fridge")
    expect(page.locator("#messages .message-version-count")).to_have_text(["2/2"])  # the branches came along
    expect(page.locator("#sidebar .thread-link", has_text="Sourdough starter")).to_have_count(2)
    screenshot(page, artifacts_dir / "transfer-imported-thread-desktop.png")


def test_import_chatgpt_on_a_phone(nova_app: LiveNova, page: Page, artifacts_dir: Path) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, nova_app)
    page.goto(f"{nova_app.url}/threads/import")
    expect(page.get_by_role("heading", name="Import threads")).to_be_visible()
    screenshot(page, artifacts_dir / "transfer-import-phone.png")
    page.set_input_files("#import-file", str(CHATGPT))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".imported")).to_contain_text("Imported 2 threads")
    expect(page.locator(".imported-list .archived-title")).to_have_text(
        ["Tea for a cold morning", "Haiku about autumn"]
    )
    screenshot(page, artifacts_dir / "transfer-imported-list-phone.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px)"

    page.get_by_role("link", name="Tea for a cold morning").click()
    expect(page.locator("#thread-title-input")).to_have_value("Tea for a cold morning")
    expect(page.locator("#messages .message")).to_have_count(4)
    expect(page.locator("#messages")).to_contain_text("The Market Hall next to the station")
    expect(page.locator("#messages")).not_to_contain_text("search results")  # the tool's output left out
    screenshot(page, artifacts_dir / "transfer-imported-thread-phone.png")

    page.locator("#thread-title .thread-more summary").click()
    menu = page.locator("#thread-title .thread-more-menu")
    expect(menu.get_by_role("link", name="Export as Markdown")).to_be_visible()
    drawn = menu.bounding_box()
    assert drawn is not None and drawn["x"] >= 0 and drawn["x"] + drawn["width"] <= PHONE["width"]
    screenshot(page, artifacts_dir / "transfer-export-menu-phone.png")
