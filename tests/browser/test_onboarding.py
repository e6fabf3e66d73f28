"""An admin's first minutes in a real browser: the generated password replaced at the first
login, then the home page's checklist (add a provider → test it → the default agent → a first
message) followed step by step through its links; on a desktop and on a phone (390 by 844)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import delete

from app.accounts import service as accounts
from app.models import Role, User
from tests.browser.test_streaming import send
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM

pytestmark = [pytest.mark.browser, pytest.mark.live]

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
ADMIN = "root@example.com"
NEW_PASSWORD = "my own admin passphrase"


async def generated_admin(live: LiveNova) -> str:
    """The first admin as `nova serve` makes it without NOVA_ADMIN_PASSWORD: its printed password."""
    async with live.db.transaction() as session:
        # The server's start-up admin (NOVA_ADMIN_PASSWORD), until the first wipe: this one replaces it.
        await session.execute(delete(User).where(User.role == Role.ADMIN))
        made = await accounts.ensure_admin(session, ADMIN, None)
    assert made is not None and made.generated_password
    return made.generated_password


def first_login(page: Page, live: LiveNova) -> None:
    """Logs in with the generated password and replaces it, as the page then insists."""
    generated = live.call(generated_admin(live))  # type: ignore[attr-defined]
    page.goto(live.url + "/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", generated)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(live.url + "/settings#password")
    expect(page.locator("#password-required")).to_contain_text("Choose a password of your own")
    page.goto(live.url + "/providers")  # every page leads back to the form
    expect(page).to_have_url(live.url + "/settings#password")
    page.get_by_label("Current password").fill(generated)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(live.url + "/threads")


def step(page: Page, key: str) -> str:
    return str(page.locator(f"#onboarding-{key}").get_attribute("class"))


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_admin_follows_the_checklist_to_a_first_reply(
    nova_app: LiveNova, page: Page, llm: ScriptedLLM, artifacts_dir: Path, viewport: ViewportSize
) -> None:
    size = "desktop" if viewport is DESKTOP else "phone"
    page.set_viewport_size(viewport)
    page.emulate_media(reduced_motion="reduce")
    first_login(page, nova_app)
    checklist = page.locator("#onboarding")
    expect(checklist).to_contain_text("0 of 4 done")
    expect(page.locator("#onboarding-provider")).to_have_class(re.compile(r"\bis-next\b"))
    no_sideways_scroll(page)
    page.screenshot(path=str(artifacts_dir / f"onboarding-start-{size}.png"), caret="initial")

    page.locator("#onboarding-provider").get_by_role("link", name="Providers").click()
    expect(page).to_have_url(nova_app.url + "/providers")
    page.locator("main").get_by_role("link", name="Add provider").first.click()
    page.fill("input[name=name]", "Homelab")
    page.select_option("select[name=kind]", "openai_compatible")
    page.fill("input[name=base_url]", llm.base_url)
    page.fill("input[name=default_model]", "scripted-small")
    page.click("main form button[type=submit]")
    expect(page).to_have_url(nova_app.url + "/providers")

    page.goto(nova_app.url + "/threads")  # the visit that makes the default agent, Nova
    expect(checklist).to_contain_text("2 of 4 done")
    assert "is-done" in step(page, "provider") and "is-done" in step(page, "agent")
    assert "is-next" in step(page, "tested")
    page.locator("#onboarding-tested").get_by_role("link", name="Test a provider").click()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".connection-result")).to_contain_text("Connected")

    page.goto(nova_app.url + "/threads")
    expect(checklist).to_contain_text("3 of 4 done")
    page.screenshot(path=str(artifacts_dir / f"onboarding-next-{size}.png"), caret="initial")
    page.locator("#onboarding-message").get_by_role("button", name="New thread").click()
    expect(page).to_have_url(re.compile(r".*/threads/[0-9a-f-]{36}$"))
    expect(page.locator("#composer select[name=agent_id] option:checked")).to_have_text("Nova")
    send(page, "Hello?")
    expect(page.locator("#messages .message-assistant")).to_contain_text("Hello from the scripted model.")

    page.goto(nova_app.url + "/threads")
    expect(page.get_by_role("heading", name="Start a conversation")).to_be_visible()
    expect(checklist).to_have_count(0)  # every step done: it goes away


def test_an_admin_may_hide_the_checklist_for_good(nova_app: LiveNova, page: Page) -> None:
    first_login(page, nova_app)
    page.get_by_role("button", name="Hide this list").click()
    expect(page).to_have_url(nova_app.url + "/threads")
    expect(page.locator("#onboarding")).to_have_count(0)
    page.reload()
    expect(page.locator("#onboarding")).to_have_count(0)


def test_a_user_who_is_not_an_admin_sees_no_checklist(nova_app: LiveNova, page: Page) -> None:
    from tests.browser.test_first_minutes import log_in

    log_in(page, nova_app, "ada@example.com")
    expect(page.get_by_role("heading", name="Start a conversation")).to_be_visible()
    expect(page.locator("#onboarding")).to_have_count(0)
