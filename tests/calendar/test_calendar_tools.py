"""Calendar tools in real runs against Radicale: settings from the Tools page, approvals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.calendar import CalendarClient
from tests.calendar.conftest import LOOPBACK, Radicale
from tests.conftest import start_live
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.fixtures.nova import PASSWORD, Client, csrf_for, submit
from tests.tools.conftest import give_tools

pytestmark = pytest.mark.live


async def browser_login(live: LiveNova) -> Client:
    client = Client(base_url=live.url)
    response = await submit(client, "/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 303
    return client


async def wait_for(live: LiveNova, run_id: str, status: str) -> dict[str, Any]:
    for _ in range(400):
        run = await live.run(run_id)
        if run["status"] == status:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {status}: {run}")


async def test_calendar_from_settings_to_an_approved_event(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM, radicale: Radicale
) -> None:
    account = radicale.new_account("cal-secret-123")
    async with start_live(request, "embedded", tmp_path, NOVA_EGRESS_ALLOWLIST="127.0.0.1") as live:
        await live.seed(llm.base_url)
        async with await browser_login(live) as browser:
            before = await browser.get("/tools")
            saved = await browser.post("/tools/settings/calendar", data={
                "url": account.url, "username": account.username, "password": account.password,
                "csrf_token": await csrf_for(browser)})  # fmt: skip
            after = await browser.get("/tools")
            forged = await browser.post("/tools/settings/calendar", data={"url": "http://evil", "csrf_token": "x"})
        assert "Needs setup: your CalDAV account" in before.text
        assert saved.status_code == 303 and forged.status_code == 403
        assert "cal-secret-123" not in after.text and "Needs setup: your CalDAV" not in after.text

        await give_tools(live, {"calendar_create_event": False, "calendar_list_events": False})
        start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
        args = {"summary": "Dentist", "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
        llm.queue(
            ScriptedReply(tool_calls=[("calendar_create_event", args)]), ScriptedReply(text_from=last_tool_result)
        )
        posted = await live.post(await live.new_thread(), "Book the dentist")
        waiting = await wait_for(live, posted["run_id"], "waiting")
        assert waiting["waiting_for"]["kind"] == "approval"
        assert waiting["waiting_for"]["tool"] == "calendar_create_event"
        assert "Dentist" in waiting["waiting_for"]["args"]
        client = CalendarClient(account, egress=LOOPBACK)
        assert await client.list_events(start - timedelta(days=1), start + timedelta(days=1)) == []
        async with live.api() as api:
            assert (
                await api.post(f"/api/v1/runs/{posted['run_id']}/answer", json={"approve": True})
            ).status_code == 202
        done = await live.wait_terminal(posted["run_id"])
        assert done["message"]["content"].startswith("Created: ")
        events = await client.list_events(start - timedelta(days=1), start + timedelta(days=1))
        assert [e.summary for e in events] == ["Dentist"]

        window = {
            "start": (start - timedelta(days=1)).date().isoformat(),
            "end": (start + timedelta(days=1)).date().isoformat(),
        }
        llm.queue(
            ScriptedReply(tool_calls=[("calendar_list_events", window)]), ScriptedReply(text_from=last_tool_result)
        )
        listed = await live.wait_terminal((await live.post(await live.new_thread(), "What's on?"))["run_id"])
        assert "Dentist" in listed["message"]["content"]
