"""System stdio MCP servers in the browser: an admin adds mcp-server-time and tests it; a user
finds its tools on the agent form and is refused the admin pages."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.accounts import service as accounts
from app.models import Role
from tests.fixtures.live import LiveNova
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROOT = "root@example.com"
SECRET = "time-api-key-secret-5555"
TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")


async def _make_admin(live: LiveNova) -> None:
    async with live.db.transaction() as session:
        await accounts.create_user(session, ROOT, PASSWORD, Role.ADMIN)


def _log_in(page: Page, live: LiveNova, email: str) -> None:
    page.goto(live.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/threads"))


@pytest.mark.console_errors(r"status of 403")  # the user's visit to the admin page
def test_an_admin_adds_a_stdio_server_that_users_can_choose(
    nova_app: LiveNova, page: Page, artifacts_dir: Path
) -> None:
    nova_app.call(_make_admin(nova_app))  # type: ignore[attr-defined]
    _log_in(page, nova_app, ROOT)
    page.click("nav.mainnav >> text=Admin")
    page.click("nav.admin-tabs >> text=System MCP")
    expect(page.locator("h1")).to_have_text("System MCP servers")
    page.click("text=Add stdio server")
    page.fill("input[name=name]", "Time")
    page.fill("input[name=command]", TIME_SERVER)
    page.fill("textarea[name=arguments]", "--local-timezone\nEurope/Paris")
    page.fill("textarea[name=environment]", f"TIME_API_KEY={SECRET}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts_dir / "stdio-mcp-new.png"), full_page=True, caret="initial")
    page.click("button:has-text('Add server')")
    expect(page.locator("h1")).to_have_text("System MCP server “Time”")
    page.click("button:has-text('Test connection')")  # htmx swaps the tool list in place
    tools = page.locator("#mcp-tools")
    expect(tools).to_contain_text("Connected: 2 tools.", timeout=30_000)
    expect(tools).to_contain_text("get_current_time")
    expect(page.locator("#field-environment")).to_have_value("")
    expect(page.locator("main")).to_contain_text("TIME_API_KEY=time-…5555")
    assert SECRET not in page.content()
    page.screenshot(path=str(artifacts_dir / "stdio-mcp-server.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "stdio-mcp-server-mobile.png"), full_page=True, caret="initial")
    page.goto(nova_app.url + "/admin/mcp-servers")
    expect(page.locator("main .table")).to_contain_text("Time")
    page.screenshot(path=str(artifacts_dir / "stdio-mcp-list-mobile.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts_dir / "stdio-mcp-list.png"), full_page=True, caret="initial")

    user = page.context.browser.new_context()  # type: ignore[union-attr]
    ada = user.new_page()
    _log_in(ada, nova_app, "ada@example.com")
    expect(ada.locator("nav.mainnav")).not_to_contain_text("Admin")
    ada.goto(nova_app.url + "/agents")
    ada.click("text=Edit")
    group = ada.locator("fieldset.mcp-tool-choices")
    expect(group.locator("legend")).to_have_text("MCP: Time system")
    expect(group.locator("input[name=tools][value='sysmcp:time:*']")).to_be_visible()
    group.locator("input[name=tools][value='sysmcp:time:get_current_time']").check()
    group.screenshot(path=str(artifacts_dir / "stdio-mcp-agent-form.png"), caret="initial")
    ada.click("button:has-text('Save changes')")
    expect(ada).to_have_url(re.compile(r".*/agents$"))
    expect(ada.locator("main")).to_contain_text("sysmcp:time:get_current_time")
    refused = ada.goto(nova_app.url + "/admin/mcp-servers")
    assert refused is not None and refused.status == 403
    user.close()
