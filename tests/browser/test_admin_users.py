"""User management in the browser: a role changes, a reset link sets a password, a user is deleted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.accounts import service as accounts
from app.models import Role
from tests.fixtures.live import LiveNova
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROOT = "root@example.com"


async def _make_admin(live: LiveNova) -> None:
    async with live.db.transaction() as session:
        await accounts.create_user(session, ROOT, PASSWORD, Role.ADMIN)


def _log_in(page: Page, live: LiveNova, email: str, password: str = PASSWORD) -> None:
    page.goto(live.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/threads"))


@pytest.mark.console_errors(r"status of 400")  # the mistyped confirmation
def test_an_admin_manages_a_user_from_role_to_deletion(nova_app: LiveNova, page: Page, artifacts_dir: Path) -> None:
    nova_app.call(_make_admin(nova_app))  # type: ignore[attr-defined]
    _log_in(page, nova_app, ROOT)
    page.goto(nova_app.url + "/admin/users")
    ada = page.locator("main .table tbody tr", has=page.locator("th", has_text="ada@example.com"))

    ada.locator("button:has-text('Make admin')").click()
    expect(ada.locator(".badge")).to_have_text("admin")
    ada.locator("button:has-text('Make user')").click()
    expect(ada.locator("button:has-text('Make admin')")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm
    ada.locator("button:has-text('Reset password')").click()
    link_field = page.locator("#reset-link")
    expect(link_field).to_be_visible()
    link = link_field.input_value()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts_dir / "admin-users.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "admin-users-mobile.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    other = page.context.browser.new_context()  # type: ignore[union-attr]
    visitor = other.new_page()
    visitor.goto(link)
    expect(visitor.locator("h1")).to_have_text("Set a new password")
    visitor.screenshot(path=str(artifacts_dir / "reset-password.png"), full_page=True)
    visitor.fill("input[name=new_password]", "ada's new passphrase")
    visitor.fill("input[name=confirm_password]", "ada's new passphrase")
    visitor.click("main form button[type=submit]")
    expect(visitor.locator(".success")).to_contain_text("Every session of this account was signed out")
    visitor.goto(link)
    expect(visitor.locator(".error")).to_contain_text("already used")
    visitor.set_viewport_size({"width": 390, "height": 844})
    visitor.screenshot(path=str(artifacts_dir / "reset-password-used-mobile.png"), full_page=True)
    _log_in(visitor, nova_app, "ada@example.com", "ada's new passphrase")
    other.close()

    ada.locator("a:has-text('Delete')").click()
    expect(page.locator("h1")).to_have_text("Delete ada@example.com?")
    expect(page.locator(".delete-footprint")).to_contain_text("1 agent")
    expect(page.locator(".delete-footprint")).to_contain_text("1 provider")
    expect(page.locator(".delete-footprint")).to_contain_text("1 API token")
    # caret="initial": hiding the caret leaves style="" on inputs, which htmx's settle would
    # then copy onto the swapped-in form (an inline style the CSP refuses).
    page.screenshot(path=str(artifacts_dir / "admin-delete-user.png"), full_page=True, caret="initial")
    page.fill("input[name=confirm_email]", "wrong@example.com")
    page.click("button:has-text('Delete user and data')")
    expect(page.locator("#field-confirm_email-error")).to_have_text("Type ada@example.com to confirm.")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "admin-delete-user-mobile.png"), full_page=True)
    page.fill("input[name=confirm_email]", "ada@example.com")
    page.click("button:has-text('Delete user and data')")
    expect(page.locator(".success")).to_contain_text("ada@example.com and everything they owned were deleted.")
    expect(page.locator("main .table tbody")).not_to_contain_text("ada@example.com")
