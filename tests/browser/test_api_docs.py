"""The API docs page renders the OpenAPI document with the vendored Swagger UI, offline."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.fixtures.live import LiveNova
from tests.fixtures.nova import PASSWORD


def test_the_api_docs_page_lists_every_operation_without_the_network(
    nova_app: LiveNova, page: Page, artifacts_dir: Path
) -> None:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(nova_app.url) else None)
    page.goto(nova_app.url + "/docs/api")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 40
    expect(page.get_by_text("/api/v1/threads/{thread_id}/messages").first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "api-docs.png"), full_page=False)
    page.locator(".opblock-summary-path", has_text="/api/v1/runs").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert outside == [], outside


def test_the_tokens_page_offers_scopes_and_lifetimes(nova_app: LiveNova, page: Page, artifacts_dir: Path) -> None:
    page.goto(nova_app.url + "/login")
    page.fill("input[name=email]", nova_app.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(nova_app.url + "/tokens")
    page.fill("input[name=name]", "script")
    page.select_option("select[name=scope]", "read")
    page.select_option("select[name=expires_in_days]", "30")
    page.click("main form button:has-text('Create token')")
    expect(page.locator("#new-token")).to_be_visible()
    row = page.locator("tbody tr", has_text="script")
    expect(row).to_contain_text("read")
    expect(page.locator("select[name=scope] option")).to_have_count(2)  # not an admin: no admin scope
    page.screenshot(path=str(artifacts_dir / "tokens.png"), full_page=True)
    page.get_by_role("link", name="API docs").click()
    expect(page.locator(".opblock").first).to_be_visible()
