"""The System page in the browser: the nav link, the cards, a failed run under Last errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, text

from app.accounts import service as accounts
from app.db import utcnow
from app.models import Agent, Role, Run, RunStatus
from app.system.service import code_head
from app.threads import service as threads
from tests.fixtures.live import LiveNova
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROOT = "root@example.com"


async def _admin_and_a_failed_run(live: LiveNova) -> None:
    async with live.db.transaction() as session:
        await accounts.create_user(session, ROOT, PASSWORD, Role.ADMIN)
        agent = await session.scalar(select(Agent).where(Agent.owner_id == live.user_id))
        assert agent is not None
        thread = await threads.create_thread(session, live.user_id, "Broken")
        session.add(Run(owner_id=live.user_id, thread_id=thread.id, agent_id=agent.id, status=RunStatus.FAILED,
                        error="The model provider did not answer in time.", finished_at=utcnow()))  # fmt: skip


async def _set_revision(live: LiveNova, revision: str) -> None:
    async with live.db.transaction() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})


def test_an_admin_reads_the_system_page(nova_app: LiveNova, page: Page, artifacts_dir: Path) -> None:
    nova_app.call(_admin_and_a_failed_run(nova_app))  # type: ignore[attr-defined]
    page.goto(nova_app.url + "/login")
    page.fill("input[name=email]", ROOT)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/threads"))

    page.locator("nav.mainnav").get_by_role("link", name="Admin", exact=True).click()
    expect(page.locator("h1")).to_have_text("Users")
    page.locator("nav.admin-tabs").get_by_role("link", name="System", exact=True).click()
    expect(page.locator("h1")).to_have_text("System")
    expect(page.locator(".system-problems")).to_contain_text("All good.")
    expect(page.locator("#system-redis")).to_contain_text("Not used (embedded")
    expect(page.locator("#system-errors tbody tr")).to_have_count(1)
    expect(page.locator("#system-errors")).to_contain_text("The model provider did not answer in time.")
    expect(page.locator("#system-errors")).to_contain_text("Helper")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts_dir / "admin-system.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "admin-system-mobile.png"), full_page=True)

    nova_app.call(_set_revision(nova_app, "0000_older"))  # type: ignore[attr-defined]
    try:
        page.reload()
        expect(page.locator(".system-problems")).to_contain_text("The database is at migration 0000_older")
        expect(page.locator("#system-nova")).to_contain_text("mismatch")
        page.screenshot(path=str(artifacts_dir / "admin-system-problem-mobile.png"), full_page=True)
    finally:
        nova_app.call(_set_revision(nova_app, code_head()))  # type: ignore[attr-defined]
