"""What a user of ChatGPT or Open WebUI reaches for first: Enter sends, the thread follows
the reply, Stop in the composer, copy buttons, the agent's name on its replies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.models import Message, MessageRole
from app.threads.service import MESSAGES_PER_PAGE
from tests.browser.test_streaming import open_new_thread, words
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply

pytestmark = [pytest.mark.browser, pytest.mark.live]


def composer(page: Page) -> tuple[object, object, object]:
    return page.locator("#composer-content"), page.locator(".composer-send"), page.locator(".composer-stop")


def scroll_gap(page: Page) -> float:
    """Pixels between the bottom of what is shown and the bottom of the message list."""
    return float(
        page.evaluate(
            """() => { const m = document.getElementById('messages');
                       return m.scrollHeight - m.scrollTop - m.clientHeight; }"""
        )
    )


def test_enter_sends_shift_enter_breaks_the_line_and_stop_lives_in_the_composer(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM
) -> None:
    llm.queue(ScriptedReply(text=words(400), tokens_per_second=20))
    open_new_thread(page, nova_app)
    content, send, stop = composer(page)
    content.fill("first line")
    content.press("Shift+Enter")
    content.type("second line")
    expect(content).to_have_value("first line\nsecond line")
    expect(page.locator("#messages .message")).to_have_count(0)  # Shift+Enter did not send
    content.press("Enter")
    expect(page.locator("#messages .message-user")).to_contain_text("second line")
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w2")
    expect(stop).to_be_visible()
    expect(send).to_be_hidden()
    content.fill("Not now")
    content.press("Enter")  # refused on the page itself while the reply is written
    expect(page.locator("#messages .message-user")).to_have_count(1)

    stop.click()
    expect(page.locator(".message-assistant .badge", has_text="Stopped")).to_be_visible(timeout=5000)
    expect(stop).to_be_hidden()
    expect(send).to_be_visible()

    llm.queue(ScriptedReply(text="Short answer."))
    content.fill("Again")
    content.press("Control+Enter")
    expect(page.locator("#messages .message-assistant").last).to_contain_text("Short answer.")


@pytest.mark.console_errors(r"status of 409")
def test_a_busy_refusal_clears_itself_when_the_reply_ends(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text=words(40), tokens_per_second=20))
    open_new_thread(page, nova_app)
    content, send, _ = composer(page)
    content.fill("Go")
    content.press("Enter")
    expect(page.locator(".message-streaming")).to_have_count(1)
    # A second tab (or a script) posts anyway: the server refuses and the composer says why.
    page.evaluate("document.querySelector('.composer-send').disabled = false")
    content.fill("Too soon")
    page.evaluate("document.getElementById('composer').requestSubmit(document.querySelector('.composer-send'))")
    expect(page.locator("#composer-content-error")).to_contain_text("still replying")
    expect(page.locator(".message-streaming")).to_have_count(0, timeout=15000)
    expect(page.locator("#composer-content-error")).to_have_count(0)
    expect(send).to_be_enabled()


def seed_long_thread(live: LiveNova, count: int = 40) -> str:
    async def seed() -> str:
        thread_id = await live.new_thread()
        start = utcnow() - timedelta(hours=1)
        async with live.db.transaction() as session:
            for i in range(count):
                role = MessageRole.USER if i % 2 == 0 else MessageRole.ASSISTANT
                session.add(Message(thread_id=uuid.UUID(thread_id), role=role, content=f"Message number {i}\n" * 3,
                                    created_at=start + timedelta(seconds=i)))  # fmt: skip
        return thread_id

    return str(live.call(seed()))  # type: ignore[attr-defined]


def test_the_thread_opens_at_the_newest_message_and_follows_only_a_reader_at_the_bottom(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM
) -> None:
    thread_id = seed_long_thread(nova_app)
    open_new_thread(page, nova_app)
    page.goto(f"{nova_app.url}/threads/{thread_id}")
    expect(page.locator("#messages .message").last).to_be_in_viewport()
    assert scroll_gap(page) < 2

    llm.queue(ScriptedReply(text=" \n\n".join(words(400).split()), tokens_per_second=25))
    page.locator("#composer-content").fill("Follow me")
    page.locator("#composer-content").press("Enter")
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w10")
    assert scroll_gap(page) < 60  # followed while at the bottom

    page.evaluate("document.getElementById('messages').scrollTop = 0")
    jump = page.locator("#jump-latest")
    expect(jump).to_be_visible()  # the reply grows below a reader who scrolled up
    assert page.evaluate("document.getElementById('messages').scrollTop") == 0
    jump.click()
    expect(jump).to_be_hidden()
    page.wait_for_timeout(300)
    assert scroll_gap(page) < 60
    page.locator(".composer-stop").click()  # no need to wait out the reply
    expect(page.locator(".message-streaming")).to_have_count(0)


def test_a_long_thread_loads_earlier_pages_above_without_moving_the_view(
    nova_app: LiveNova, page: Page, artifacts_dir: Path
) -> None:
    thread_id = seed_long_thread(nova_app, count=2 * MESSAGES_PER_PAGE + 30)
    open_new_thread(page, nova_app)
    page.goto(f"{nova_app.url}/threads/{thread_id}")
    messages = page.locator("#messages .message")
    expect(messages.last).to_be_in_viewport()
    expect(messages).to_have_count(MESSAGES_PER_PAGE)  # the newest page only
    for loaded in (2 * MESSAGES_PER_PAGE, 2 * MESSAGES_PER_PAGE + 30):
        was_first = messages.first.get_attribute("id")
        page.evaluate("document.getElementById('messages').scrollTop = 0")  # the reader scrolls up
        expect(messages).to_have_count(loaded)
        # The earlier page went in above: what the reader was looking at is still in view.
        expect(page.locator(f"#{was_first}")).to_be_in_viewport()
        assert page.evaluate("document.getElementById('messages').scrollTop") > 100
        expect(page.locator("#jump-latest")).to_be_hidden()
    expect(messages.first).to_contain_text("Message number 0")
    expect(page.locator("#messages-older")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "thread-earlier-pages.png"))


def test_copy_buttons_on_messages_and_code_blocks(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=nova_app.url)
    llm.queue(ScriptedReply(text="Here:\n\n```python\nprint('hi')\n```\n\nDone."))
    open_new_thread(page, nova_app)
    page.locator("#composer-content").fill("Code please")
    page.locator("#composer-content").press("Enter")
    reply = page.locator(".message-assistant").last
    expect(reply.locator(".code-language")).to_have_text("python")
    reply.locator(".code-block .copy-button").click()
    expect(reply.locator(".code-block .copy-button")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "print('hi')\n"

    reply.locator(".message-meta .copy-button").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Here:") and "print('hi')" in copied and copied.endswith("Done.")
    page.locator(".message-user .copy-button").click()
    assert page.evaluate("navigator.clipboard.readText()") == "Code please"
    for scheme in ("light", "dark"):  # kept for a person to look at (ARTIFACTS_DIR)
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(artifacts_dir / f"thread-{scheme}.png"))


def test_replies_carry_the_agents_name_and_model(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text=words(30), tokens_per_second=30))
    open_new_thread(page, nova_app)
    page.locator("#composer-content").fill("Who are you?")
    page.locator("#composer-content").press("Enter")
    streaming_author = page.locator(".message-streaming .message-author")
    expect(streaming_author).to_have_text("Helper")
    finished = page.locator(".message-assistant:not(.message-streaming) .message-author")
    expect(finished).to_have_text("Helper", timeout=15000)
    expect(finished).to_have_attribute("title", "scripted-small")
    page.reload()
    expect(page.locator(".message-assistant .message-author")).to_have_text("Helper")


def test_markdown_is_rendered_while_the_reply_streams(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    reply = "# Plan\n\nSome **bold** text.\n\n```python\nprint('hi')\n```\n\n" + words(300)
    llm.queue(ScriptedReply(text=reply, tokens_per_second=30))
    open_new_thread(page, nova_app)
    page.locator("#composer-content").fill("Plan it")
    page.locator("#composer-content").press("Enter")
    streaming = page.locator(".message-streaming .run-text")
    expect(streaming.locator("strong")).to_have_text("bold")
    expect(streaming.locator("h1")).to_have_text("Plan")
    expect(streaming.locator("pre code")).to_contain_text("print('hi')")
    expect(streaming).to_contain_text("w5")
    assert "**" not in streaming.inner_text() and "```" not in streaming.inner_text()
    page.reload()  # mid-reply: the page renders what came so far the same way, then goes on
    expect(page.locator(".message-streaming .run-text strong")).to_have_text("bold")
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w60")
    expect(page.locator(".message-streaming .run-text h1")).to_have_count(1)
    expect(page.locator(".message-streaming")).to_have_count(0, timeout=20000)
    final = page.locator(".message-assistant").last
    expect(final.locator("h1")).to_have_count(1)
    expect(final.locator("strong")).to_have_count(1)
    expect(final).to_contain_text("w299")


def test_the_composer_picks_a_model_for_the_next_message(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(text="Large says hi."), ScriptedReply(text="Small again."))
    open_new_thread(page, nova_app)
    page.locator("#composer-model").fill("scripted-large")
    page.locator("#composer-content").fill("Use the large one")
    page.locator("#composer-content").press("Enter")
    expect(page.locator(".message-assistant").last).to_contain_text("Large says hi.", timeout=15000)
    expect(page.locator(".composer-send")).to_be_visible(timeout=15000)  # the reply has ended: Enter sends again
    expect(page.locator("#composer-model")).to_have_value("")  # the next message: the agent's own again
    page.locator("#composer-content").fill("And now?")
    page.locator("#composer-content").press("Enter")
    expect(page.locator(".message-assistant").last).to_contain_text("Small again.", timeout=15000)
    assert [request["model"] for request in llm.requests] == ["scripted-large", "scripted-small"]


def test_the_comforts_on_a_phone(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    """The same comforts at 390 x 844: Enter, Stop in the composer, Markdown while streaming,
    the agent's name, Retry, copy buttons and the model field."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=nova_app.url)
    llm.queue(ScriptedReply(status=401))
    open_new_thread(page, nova_app)
    page.set_viewport_size({"width": 390, "height": 844})
    send, stop = page.locator(".composer-send"), page.locator(".composer-stop")
    page.locator("#composer-content").fill("Hello?")
    page.locator("#composer-content").press("Enter")
    failure = page.locator(".message-error")
    expect(failure).to_contain_text("rejected the API key")
    llm.queue(ScriptedReply(text="# Plan\n\n```python\nprint('hi')\n```\n\n" + words(300), tokens_per_second=30))
    failure.get_by_role("button", name="Retry").click()
    streaming = page.locator(".message-streaming")
    expect(streaming.locator(".run-text h1")).to_have_text("Plan")
    expect(streaming.locator(".message-author")).to_have_text("Helper")
    expect(stop).to_be_visible()
    expect(send).to_be_hidden()
    expect(streaming).to_be_in_viewport()
    stop.click()
    stopped = page.locator(".message-assistant", has=page.locator(".badge", has_text="Stopped"))
    expect(stopped).to_be_visible(timeout=5000)
    stopped.locator(".code-block .copy-button").click()
    assert page.evaluate("navigator.clipboard.readText()") == "print('hi')\n"
    llm.queue(ScriptedReply(text="Large."))
    page.locator("#composer-model").fill("scripted-large")
    page.locator("#composer-content").fill("Once more")
    page.locator("#composer-content").press("Enter")
    expect(page.locator(".message-assistant").last).to_contain_text("Large.", timeout=15000)
    assert llm.requests[-1]["model"] == "scripted-large"
