"""Installable: Chromium reads the manifest every page links, finds no error in it, and its
icons load; on a desktop and on a phone (390 by 844)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.test_first_minutes import log_in
from tests.fixtures.live import LiveNova

pytestmark = [pytest.mark.browser, pytest.mark.live]

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


def app_manifest(page: Page) -> dict[str, Any]:
    """What Chromium itself parsed from the page's manifest (DevTools protocol)."""
    session = page.context.new_cdp_session(page)
    try:
        return dict(session.send("Page.getAppManifest"))
    finally:
        session.detach()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_chromium_reads_the_manifest_without_errors(
    nova_app: LiveNova, page: Page, artifacts_dir: Path, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    page.goto(nova_app.url + "/login")  # anonymous: the login page links it too
    found = app_manifest(page)
    assert found["url"] == nova_app.url + "/manifest.webmanifest"
    assert found["errors"] == []
    parsed = found["data"]
    assert '"display": "standalone"' in parsed or '"display":"standalone"' in parsed

    log_in(page, nova_app, "ada@example.com")
    assert app_manifest(page)["errors"] == []
    icons = page.evaluate("""async () => {
        const manifest = await (await fetch(document.querySelector('link[rel=manifest]').href)).json();
        const sizes = [];
        for (const icon of manifest.icons.filter(i => i.type === 'image/png')) {
            const image = new Image();
            image.src = icon.src;
            await image.decode();
            sizes.push([icon.sizes, `${image.naturalWidth}x${image.naturalHeight}`, icon.purpose]);
        }
        return sizes;
    }""")
    assert [(declared, actual) for declared, actual, _ in icons] == [(d, d) for d, _, _ in icons]
    assert {purpose for _, _, purpose in icons} == {"any", "maskable"}
    touch = page.locator("link[rel=apple-touch-icon]").get_attribute("href")
    assert touch and page.request.get(touch).status == 200
    expect(page.locator("meta[name=theme-color]")).to_have_count(2)  # light and dark, as the system prefers
    # No service worker: nothing of a user's threads is kept for offline use.
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    page.screenshot(path=str(artifacts_dir / f"install-threads-{viewport['width']}.png"), caret="initial")
