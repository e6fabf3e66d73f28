"""The first five minutes in a real browser: a provider brings Nova, a rename shows at once,
a provider failure says it is retrying, and a failed reply can be tried again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.accounts import service as accounts
from app.models import Role
from tests.browser.test_streaming import open_new_thread, send
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]


async def add_user(live: LiveNova, email: str) -> None:
    async with live.db.transaction() as session:
        await accounts.create_user(session, email, PASSWORD, Role.USER)


def log_in(page: Page, live: LiveNova, email: str) -> None:
    page.goto(live.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(live.url + "/threads")


def test_a_newcomer_is_sent_to_providers_and_the_first_one_brings_nova(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM
) -> None:
    nova_app.call(add_user(nova_app, "newcomer@example.com"))  # type: ignore[attr-defined]
    log_in(page, nova_app, "newcomer@example.com")
    notice = page.locator("#needs-provider")
    expect(notice).to_contain_text("needs an LLM provider")
    notice.get_by_role("link", name="Add a provider").click()
    expect(page).to_have_url(nova_app.url + "/providers")
    page.click("main >> text=Add provider")
    page.fill("input[name=name]", "Homelab")
    page.select_option("select[name=kind]", "openai_compatible")
    page.fill("input[name=base_url]", llm.base_url)
    page.fill("input[name=default_model]", "scripted-small")
    page.click("main form button[type=submit]")
    expect(page).to_have_url(nova_app.url + "/providers")  # the list, not the form again
    page.click("text=Test connection")
    expect(page.locator(".connection-result")).to_contain_text("Connected: 2 models available.")

    page.click("nav >> text=Threads")
    expect(page.locator("#needs-provider")).to_have_count(0)
    page.click("button:has-text('New thread')")
    expect(page).to_have_url(re.compile(r".*/threads/[0-9a-f-]{36}$"))
    expect(page.locator("#composer select[name=agent_id] option:checked")).to_have_text("Nova")
    send(page, "Hello?")
    expect(page.locator("#messages .message-assistant")).to_contain_text("Hello from the scripted model.")


def test_a_rename_shows_in_the_sidebar_without_a_reload(nova_app: LiveNova, page: Page) -> None:
    open_new_thread(page, nova_app)
    page.evaluate("window.sameDocument = true")
    page.fill("#thread-title-input", "Renamed in place")
    page.click("#thread-title button:has-text('Rename')")
    expect(page.locator("#sidebar .thread-link.active")).to_have_text("Renamed in place")
    assert page.evaluate("window.sameDocument") is True  # an htmx swap, not a new page


def test_a_retried_provider_failure_says_so_in_the_bubble(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    # The text after the retry takes a while, so the line stays up long enough to be seen.
    llm.queue(ScriptedReply(status=500), ScriptedReply(text="Back on track.", first_token_delay=2.0))
    open_new_thread(page, nova_app)
    send(page, "Hello?")
    status = page.locator(".message-streaming .run-status")
    expect(status).to_have_text("Retrying (2/4)…")
    expect(page.locator("#messages .message-assistant .markdown")).to_have_text("Back on track.", timeout=15000)
    expect(page.locator(".message-streaming")).to_have_count(0)


def test_a_failed_reply_can_be_tried_again(nova_app: LiveNova, page: Page, llm: ScriptedLLM) -> None:
    llm.queue(ScriptedReply(status=401))
    open_new_thread(page, nova_app)
    send(page, "Hello?")
    failure = page.locator(".message-error")
    expect(failure).to_contain_text("The provider rejected the API key.")
    llm.queue(ScriptedReply(text="Second time lucky."))
    failure.get_by_role("button", name="Retry").click()
    expect(page.locator("#messages .message-assistant .markdown")).to_have_text("Second time lucky.", timeout=15000)
    expect(page.locator(".message-error")).to_have_count(1)  # the failure stays where it was
    page.reload()
    expect(page.locator("#messages .message")).to_have_count(3)
    assert llm.requests[-1]["messages"][-1] == {"role": "user", "content": "Hello?"}
