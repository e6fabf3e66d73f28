"""An OAuth 2.1 MCP server in the browser: add it, Connect, allow Nova at the authorization
server's consent page, and land back on the server's page signed in, its tools listed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.live import LiveNova
from tests.fixtures.mcp_oauth_server import OAuthState, start_oauth_servers
from tests.fixtures.nova import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def loopback_oauth() -> Iterator[OAuthState]:
    """On 127.0.0.1, which the browser tests' Nova allows (its scripted LLM lives there)."""
    state = start_oauth_servers("127.0.0.1", "127.0.0.1")
    state.consent = True  # a real consent page with Allow / Deny, as a person meets it
    yield state
    state.stop()


def test_connect_an_oauth_mcp_server(
    nova_app: LiveNova, page: Page, loopback_oauth: OAuthState, artifacts_dir: Path
) -> None:
    page.goto(nova_app.url + "/login")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(nova_app.url + "/tools")
    page.click("text=Add MCP server")
    page.fill("input[name=name]", "Notes Vault")
    page.fill("input[name=url]", loopback_oauth.mcp_url)
    page.select_option("select[name=auth_kind]", "oauth")
    page.click("button:has-text('Add server')")
    expect(page.locator("h1")).to_have_text("MCP server “Notes Vault”")
    sign_in = page.locator("#mcp-oauth")
    expect(sign_in.locator(".badge")).to_have_text("Not connected")
    page.screenshot(path=str(artifacts_dir / "mcp-oauth-not-connected.png"), full_page=True)

    sign_in.get_by_role("button", name="Connect").click()
    expect(page.locator("h1")).to_have_text("Allow Nova?")  # the authorization server's page
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{nova_app.url}/tools/mcp/{_server_id(page)}?connected=1")
    expect(sign_in.locator(".badge")).to_have_text("Connected")
    expect(sign_in).to_contain_text(loopback_oauth.issuer)
    tools = page.locator("#mcp-tools")
    expect(tools).to_contain_text("Connected: 2 tools.", timeout=20_000)
    expect(tools).to_contain_text("Say the text back, quietly")
    html = page.content()
    for token in loopback_oauth.tokens:
        assert token.access_token not in html and str(token.refresh_token) not in html
    page.screenshot(path=str(artifacts_dir / "mcp-oauth-connected.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "mcp-oauth-connected-mobile.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(nova_app.url + "/tools")
    section = page.locator("#mcp-servers")
    expect(section).to_contain_text("OAuth 2.1, Nova registers itself")
    expect(section).to_contain_text("Notes Vault")
    assert loopback_oauth.log[:3] == ["register", "authorize", "token:authorization_code"]


def _server_id(page: Page) -> str:
    return page.url.split("/tools/mcp/", 1)[1].split("?", 1)[0]
