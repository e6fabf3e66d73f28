"""A newcomer's first minutes, in a real browser against `nova serve`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.llm_server import ScriptedLLM, allowlist_with_scripted_llm
from tests.fixtures.server import nova_serve

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_login_add_provider_agent_thread_and_message(page: Page, llm: ScriptedLLM, tmp_path: Path) -> None:
    # The scripted provider is on loopback: a homelab allows such addresses explicitly.
    allowlist = allowlist_with_scripted_llm()
    with nova_serve(tmp_path, NOVA_ADMIN_EMAIL="me@example.com", NOVA_EGRESS_ALLOWLIST=allowlist) as nova:
        page.goto(nova.url + "/")
        page.fill("input[name=email]", "me@example.com")
        page.fill("input[name=password]", nova.admin_password())
        page.click("button[type=submit]")
        # The printed password is replaced first (app/preferences/), then the home page.
        expect(page).to_have_url(nova.url + "/settings#password")
        page.fill("input[name=current_password]", nova.admin_password())
        page.fill("input[name=new_password]", "my own admin passphrase")
        page.fill("input[name=confirm_password]", "my own admin passphrase")
        page.click("#password button[type=submit]")
        expect(page).to_have_url(nova.url + "/threads")

        page.click("nav >> text=Providers")
        page.click("text=Add provider")
        page.fill("input[name=name]", "Homelab")
        page.select_option("select[name=kind]", "openai_compatible")
        page.fill("input[name=base_url]", llm.base_url)
        page.fill("input[name=api_key]", "sk-browser-test-0000")
        page.fill("input[name=default_model]", "scripted-small")
        page.click("main form button[type=submit]")
        expect(page.locator("table.providers-table")).to_contain_text("Homelab")
        expect(page.locator("table.providers-table")).to_contain_text("sk-…0000")
        page.click("text=Test connection")
        expect(page.locator(".connection-result")).to_contain_text("scripted-large")

        page.click("nav >> text=Agents")
        page.click("text=New agent")
        page.fill("input[name=name]", "Helper")
        page.fill("textarea[name=instructions]", "Answer in one sentence.")
        page.click("main form button[type=submit]")
        expect(page.locator("main")).to_contain_text("Helper")

        page.click("nav >> text=Threads")
        page.click("button:has-text('New thread')")
        expect(page).to_have_url(re.compile(r".*/threads/[0-9a-f-]{36}$"))
        page.fill("textarea[name=content]", "Hello **Nova**")
        page.click("#composer button[type=submit]")
        expect(page.locator("#messages")).to_contain_text("Hello **Nova**")
        expect(page.locator("textarea[name=content]")).to_have_value("")
        expect(page.locator("#sidebar")).to_contain_text("Hello **Nova**")

        expect(page.locator("#messages .message-assistant")).to_contain_text("Hello from the scripted model.")

        page.reload()
        expect(page.locator("#messages .message")).to_have_count(2)
        page.screenshot(path=str(tmp_path / "thread.png"))
