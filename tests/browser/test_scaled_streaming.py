"""The streaming comforts in the scaled setup: `nova serve` + `nova worker`, PostgreSQL and
Redis, where the text reaches the page through Redis instead of an in-process log."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LoopThread
from tests.browser.test_streaming import open_new_thread, words
from tests.fixtures.live import LiveNova, live_nova, wipe
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.postgres import fresh_database
from tests.fixtures.redis import RedisServer

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def scaled_app(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str, llm_server: ScriptedLLM
) -> Iterator[LiveNova]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = LoopThread(loop, thread)
    redis = RedisServer().start()
    try:
        with fresh_database(postgres_server_url) as database:
            manager = live_nova("scaled", tmp_path_factory.mktemp("browser-scaled"),
                                postgres_url=database, redis_url=redis.url)  # fmt: skip
            server = runner.run(manager.__aenter__())
            try:
                live = replace(server, token="", email="")
                runner.run(live.seed(llm_server.base_url))
                yield live
                runner.run(live.settle())
                runner.run(wipe(live.db))
            finally:
                runner.run(manager.__aexit__(None, None, None))
    finally:
        redis.cleanup()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def send(page: Page, text: str) -> None:
    page.locator("#composer-content").fill(text)
    page.locator("#composer-content").press("Enter")


def test_markdown_streams_retries_show_and_stop_works_through_redis(
    scaled_app: LiveNova, page: Page, llm: ScriptedLLM
) -> None:
    open_new_thread(page, scaled_app)
    llm.queue(ScriptedReply(status=500), ScriptedReply(text="# Plan\n\nSome **bold** text.\n\n" + words(400),
                                                       tokens_per_second=30, first_token_delay=1.5))  # fmt: skip
    send(page, "Plan it")
    expect(page.locator(".message-streaming .run-status")).to_have_text("Retrying (2/4)…", timeout=10000)
    streaming = page.locator(".message-streaming .run-text")
    expect(streaming.locator("strong")).to_have_text("bold", timeout=15000)
    expect(streaming.locator("h1")).to_have_text("Plan")
    expect(page.locator(".composer-stop")).to_be_visible()
    expect(streaming).to_contain_text("w5")
    page.reload()  # mid-reply: the text so far comes back rendered, then more
    expect(page.locator(".message-streaming .run-text strong")).to_have_text("bold")
    expect(page.locator(".message-streaming .run-text")).to_contain_text("w40", timeout=15000)
    page.locator(".composer-stop").click()
    stopped = page.locator(".message-assistant", has=page.locator(".badge", has_text="Stopped"))
    expect(stopped).to_be_visible(timeout=5000)
    expect(stopped.locator("h1")).to_have_text("Plan")
    expect(page.locator(".composer-send")).to_be_visible()
