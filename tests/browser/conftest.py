"""Headless Chromium (Debian's) driven by Playwright for Python."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.fixtures.live import LiveNova, live_nova
from tests.fixtures.llm_server import ScriptedLLM

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


# Package scope: sync Playwright keeps an event loop running while it is open, which
# would stop the async tests of other packages from starting their own.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def nova_app(tmp_path: Path, llm: ScriptedLLM) -> Iterator[LiveNova]:
    """Embedded `nova serve` with a seeded user, driven from sync Playwright code.

    Sync Playwright owns this thread's event loop, so the async setup runs on its own.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)

    manager = live_nova("embedded", tmp_path)
    live = run(manager.__aenter__())
    run(live.seed(llm.base_url))
    live.call = run  # type: ignore[attr-defined]  # lets tests run async setup on this loop
    try:
        yield live
    finally:
        run(manager.__aexit__(None, None, None))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
