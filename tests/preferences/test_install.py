"""The web app manifest and its icons: served to anyone, linked from every page."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.fixtures.nova import Nova

STATIC = Path(__file__).resolve().parents[2] / "static"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_manifest_is_served_without_login(nova: Nova) -> None:
    async with nova.client() as anonymous:
        response = await anonymous.get("/manifest.webmanifest")
        icons = [await anonymous.get(icon["src"]) for icon in response.json()["icons"]]
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["name"], manifest["short_name"], manifest["display"]) == ("Nova", "Nova", "standalone")
    assert (manifest["start_url"], manifest["scope"]) == ("/", "/")
    assert manifest["theme_color"] and manifest["background_color"]
    found = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= found
    assert [icon.status_code for icon in icons] == [200] * len(icons)


def test_each_png_icon_has_the_size_the_manifest_says() -> None:
    for name, size in (("nova-192.png", 192), ("nova-512.png", 512), ("nova-maskable-192.png", 192),
                       ("nova-maskable-512.png", 512), ("apple-touch-icon.png", 180)):  # fmt: skip
        assert png_size(STATIC / "icons" / name) == (size, size), name


async def test_every_page_links_the_manifest_and_icons_and_no_service_worker(nova: Nova) -> None:
    async with nova.client() as anonymous:
        login = (await anonymous.get("/login")).text
    assert '<link rel="manifest" href="http://testserver/manifest.webmanifest">' in login
    assert '<link rel="apple-touch-icon" href="http://testserver/static/icons/apple-touch-icon.png">' in login
    assert '<meta name="theme-color" content="#ffffff" media="(prefers-color-scheme: light)">' in login
    # Nothing private is cached offline: Nova registers no service worker at all.
    assert not any("serviceWorker" in path.read_text() for path in STATIC.glob("*.js"))
