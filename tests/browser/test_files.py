"""Files in the browser: attach in the composer (with progress), send, the Files panel, download."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_mobile import screenshot
from tests.browser.test_streaming import open_new_thread
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.mark.console_errors(r"status of 422")
def test_attach_send_see_and_download_a_file(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "meeting notes.md"
    notes.write_text("# Meeting\n\nThe launch moves to Tuesday.\n")
    fake = tmp_path / "cat.png"
    fake.write_text("<!DOCTYPE html><html><script>alert(1)</script></html>")
    llm.queue(ScriptedReply(text="The launch moves to Tuesday."))
    open_new_thread(page, nova_app)

    page.set_input_files("#composer-file", [str(notes), str(fake)])
    uploaded = page.locator(".attachment.is-uploaded")
    expect(uploaded).to_have_count(1)
    expect(uploaded).to_contain_text("meeting notes.md (Markdown")
    expect(page.locator(".attachment.is-refused")).to_contain_text("The name says PNG image but the content is HTML")
    page.locator(".attachment.is-refused .attachment-remove").click()
    screenshot(page, artifacts_dir / "files-composer.png")

    page.fill("#composer-content", "When is the launch?")
    page.click("#composer .composer-send")
    expect(page.locator("#messages .message-user .message-files")).to_contain_text("meeting notes.md")
    expect(page.locator("#messages .message-assistant").last).to_contain_text("Tuesday")
    expect(page.locator(".attachment")).to_have_count(0)  # a fresh composer
    assert "The launch moves to Tuesday." in str(llm.requests[-1]["messages"][-1]["content"])

    panel = page.locator("#thread-files")
    expect(panel.locator("summary")).to_contain_text("1")
    expect(panel.locator(".file-item")).to_contain_text("meeting notes.md")
    screenshot(page, artifacts_dir / "files-panel.png")
    with page.expect_download() as download_info:
        panel.locator("a.file-name").click()
    download = download_info.value
    assert download.suggested_filename == "meeting notes.md"
    assert Path(download.path()).read_text() == "# Meeting\n\nThe launch moves to Tuesday.\n"

    panel.get_by_role("button", name="Delete meeting notes.md").click()
    expect(panel.locator(".file-item")).to_have_count(0)
    expect(panel.locator("summary")).to_contain_text("0")
