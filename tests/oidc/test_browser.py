"""Single sign-on in Chromium against the local provider: the login page in "both" mode, a
first login that creates the account, and a logout that ends the provider's session too."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from app.models import Role, User
from tests.browser import conftest as browser_tests
from tests.browser.conftest import CHROMIUM_ARGS, LoopThread
from tests.browser.test_accessibility import axe_violations
from tests.fixtures.live import LiveNova, live_nova
from tests.fixtures.oidc_provider import Provider

pytestmark = [pytest.mark.browser, pytest.mark.live]
# The browser tests' fixtures: a fresh page that fails on console errors, the screenshots' folder.
page = browser_tests.page
artifacts_dir = browser_tests.artifacts_dir


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """This module's own Chromium: sync Playwright holds the thread's event loop while it is
    open, so it must close before the package's async tests run."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def sso_live(
    provider_server: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveNova, LoopThread]]:
    """`nova serve` logging in with passwords or the provider, creating accounts on first login."""
    loop = asyncio.new_event_loop()
    runner = LoopThread(loop, threading.Thread(target=loop.run_forever, daemon=True))
    runner.thread.start()
    settings = provider_server.nova_settings(NOVA_LOGIN_MODE="both", OIDC_AUTO_CREATE="true")
    manager = live_nova("embedded", tmp_path_factory.mktemp("sso-nova"), **settings)
    try:
        yield runner.run(manager.__aenter__()), runner
    finally:
        runner.run(manager.__aexit__(None, None, None))
        loop.call_soon_threadsafe(loop.stop)
        runner.thread.join(timeout=10)
        loop.close()


async def account(live: LiveNova, email: str) -> User | None:
    async with live.db.transaction() as session:
        return await session.scalar(select(User).where(User.email == email))


def test_first_login_and_logout_through_the_provider(
    sso_live: tuple[LiveNova, LoopThread],
    provider: Provider,
    page: Page,
    artifacts_dir: Path,
) -> None:
    live, runner = sso_live
    page.goto(live.url + "/login")
    expect(page.get_by_label("Email")).to_be_visible()
    single_sign_on = page.get_by_role("link", name="Log in with Test IdP")
    expect(single_sign_on).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "oidc-login-both.png"), full_page=True)
    assert axe_violations(page, live.url) == []

    single_sign_on.click()
    expect(page).to_have_url(live.url + "/threads")
    expect(page.locator(".whoami")).to_have_text("ada@example.com")
    created = runner.run(account(live, "ada@example.com"))
    assert created is not None and created.role is Role.USER
    page.goto(live.url + "/settings")
    expect(page.get_by_text("Nova holds no password for this account")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "oidc-account.png"), full_page=True)

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(live.url + "/login")  # back from the provider's logout
    assert len(provider.logouts) == 1
    assert provider.logouts[0]["post_logout_redirect_uri"] == live.url + "/login"
    page.goto(live.url + "/threads")
    expect(page).to_have_url(live.url + "/login?next=%2Fthreads")
