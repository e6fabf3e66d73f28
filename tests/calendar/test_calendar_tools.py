"""Calendar tools in real runs against Radicale: settings from the Tools page, approvals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.agents.tools.calendar import calendar_tools
from app.agents.tools.context import ToolContext, ToolEnvironment
from app.agents.tools.instrument import instrument
from app.calendar import CalendarCredentials
from app.calendar.client import CalendarClient
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


class _ForgetfulLedger:
    """A ledger that never gets to record: the worker died between the effect and the record."""

    async def done(self, call_id: str) -> str | None:
        return None

    async def record(self, call_id: str, tool: str, output: str) -> None:
        pass


async def test_a_create_repeated_after_a_crash_writes_the_same_event(account: CalendarCredentials) -> None:
    async def emit(kind: Any, data: Any) -> None:
        pass

    ctx = ToolContext(
        user_id=uuid.uuid4(), run_id=uuid.uuid4(), timezone=ZoneInfo("UTC"),
        env=ToolEnvironment(None, None, account), egress=LOOPBACK, memory=None,  # type: ignore[arg-type]
        emit=emit, approve=None, ask=None, effects=_ForgetfulLedger(),  # type: ignore[arg-type]
    )  # fmt: skip
    tools = {tool.name: tool for tool in calendar_tools(ctx)}
    create = instrument(tools["calendar_create_event"], ctx, once=True)
    args = {"summary": "Dentist", "start": "2026-03-04T09:00:00", "end": "2026-03-04T10:00:00"}

    def call(call_id: str) -> dict[str, Any]:
        return {"type": "tool_call", "name": create.name, "id": call_id, "args": args}

    for call_id in ("call_1", "call_1", "call_2"):
        await create.ainvoke(call(call_id))
    events = await CalendarClient(account, egress=LOOPBACK).list_events(
        datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
    )
    # The repeat of call_1 rewrote its event; call_2 is another call, so another event.
    assert [event.summary for event in events] == ["Dentist", "Dentist"]
