"""Headless Chromium (Debian's) driven by Playwright for Python."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fixtures.live import LiveNova, live_nova, wipe
from tests.fixtures.llm_server import ScriptedLLM

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


# Package scope: sync Playwright keeps an event loop running while it is open, which
# would stop the async tests of other packages from starting their own.
# Assertions wait up to 10 s for the page to get there (Playwright's default is 5 s): on two
# cores shared by chromium, `nova serve` and the other pytest worker, a reply's last event can
# take longer than 5 s to land. A page that never gets there still fails.
expect.set_options(timeout=10_000)

ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def artifacts_dir() -> Path:
    """Where browser tests leave screenshots for a person to look at (git ignores it)."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page; any console error fails the test, except those it marks as provoked."""
    provoked = [re.compile(m.args[0]) for m in request.node.iter_markers("console_errors")]
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    unexpected = [e for e in errors if not any(pattern.search(e) for pattern in provoked)]
    assert unexpected == [], f"browser console errors: {unexpected}"


@dataclass
class LoopThread:
    """An event loop on a thread of its own: sync Playwright owns the test thread's loop."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)


@pytest.fixture(scope="package")
def browser_nova(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveNova, LoopThread]]:
    """One embedded `nova serve` for the browser tests; each test seeds and wipes its rows."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = LoopThread(loop, thread)
    manager = live_nova("embedded", tmp_path_factory.mktemp("browser-nova"))
    server = runner.run(manager.__aenter__())
    try:
        yield server, runner
    finally:
        runner.run(manager.__aexit__(None, None, None))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def nova_app(browser_nova: tuple[LiveNova, LoopThread], llm: ScriptedLLM) -> Iterator[LiveNova]:
    """The browser tests' `nova serve` with a seeded user (ada@example.com) and nothing else.

    `live.call(coroutine)` runs async setup on the server's loop.
    """
    server, runner = browser_nova
    live = replace(server, token="", email="")
    runner.run(live.seed(llm.base_url))
    live.call = runner.run  # type: ignore[attr-defined]
    try:
        yield live
    finally:
        runner.run(live.settle())  # no run of this test may write after the wipe
        runner.run(wipe(live.db))
