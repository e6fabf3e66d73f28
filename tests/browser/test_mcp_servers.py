"""MCP servers in the browser: add one, Test connection lists its tools, the agent form offers them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.live import LiveNova
from tests.fixtures.mcp_server import BEARER, McpTestServer, start_mcp_server
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def loopback_mcp() -> Iterator[McpTestServer]:
    """On 127.0.0.1, which the browser tests' Nova allows (its scripted LLM lives there)."""
    server = start_mcp_server("127.0.0.1")
    yield server
    server.stop()


def test_add_test_and_offer_an_mcp_server(
    nova_app: LiveNova, page: Page, loopback_mcp: McpTestServer, artifacts_dir: Path
) -> None:
    page.goto(nova_app.url + "/login")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(nova_app.url + "/tools")
    page.click("text=Add MCP server")
    page.fill("input[name=name]", "Home Assistant")
    page.fill("input[name=url]", loopback_mcp.http_url)
    page.select_option("select[name=auth_kind]", "bearer")
    page.fill("input[name=token]", BEARER)
    page.click("button:has-text('Add server')")
    expect(page.locator("h1")).to_have_text("MCP server “Home Assistant”")
    page.click("button:has-text('Test connection')")  # htmx swaps the tool list in place
    tools = page.locator("#mcp-tools")
    expect(tools).to_contain_text("Connected: 4 tools.", timeout=20_000)  # the first loads the MCP client
    expect(tools).to_contain_text("Add two whole numbers.")
    schema = tools.locator("details.mcp-schema").first
    expect(schema.locator("pre")).to_be_hidden()
    schema.locator("summary").click()
    expect(schema.locator("pre")).to_contain_text('"required"')
    assert BEARER not in page.content()
    page.screenshot(path=str(artifacts_dir / "mcp-server-page.png"), full_page=True)
    page.goto(nova_app.url + "/tools")
    section = page.locator("#mcp-servers")
    expect(section).to_contain_text("Home Assistant")
    expect(section).to_contain_text("…1234")
    section.screenshot(path=str(artifacts_dir / "tools-mcp-servers.png"))
    page.goto(nova_app.url + "/agents")
    page.click("text=Edit")
    group = page.locator("fieldset.mcp-tool-choices")
    expect(group.locator("legend")).to_have_text("MCP: Home Assistant")
    expect(group.locator("input[name=ask_first][value='mcp:home-assistant:add']")).to_be_checked()
    expect(group.locator("input[name=tools][value='mcp:home-assistant:add']")).not_to_be_checked()
