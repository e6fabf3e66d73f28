"""Human in the loop: questions and approvals pause a run durably until answered."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.db import utcnow
from app.models import Run, RunStatus
from tests.conftest import start_live
from tests.fixtures.live import LiveNova
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply, last_tool_result
from tests.fixtures.sse import Received, read_events
from tests.tools.conftest import give_tools

pytestmark = pytest.mark.live


async def wait_status(live: LiveNova, run_id: str, status: str, timeout: float = 20) -> dict[str, Any]:  # noqa: ASYNC109
    for _ in range(int(timeout / 0.05)):
        run = await live.run(run_id)
        if run["status"] == status:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run never became {status}: {run}")


async def answer(live: LiveNova, run_id: str, body: dict[str, Any]) -> int:
    async with live.api() as client:
        response = await client.post(f"/api/v1/runs/{run_id}/answer", json=body)
    return response.status_code


async def test_ask_user_pauses_and_resumes_with_the_answer(live: LiveNova, llm: ScriptedLLM) -> None:
    await give_tools(live, {"ask_user": False})
    llm.queue(
        ScriptedReply(tool_calls=[("ask_user", {"question": "Which colour?", "choices": ["Blue", "Red"]})]),
        ScriptedReply(text_from=lambda body: "You chose: " + last_tool_result(body)),
    )  # fmt: skip
    posted = await live.post(await live.new_thread(), "Paint my room")
    received = Received()
    async with live.api() as client:
        await read_events(client, posted["run_id"], received, stop_after=3)
    waiting = await wait_status(live, posted["run_id"], "waiting")
    assert waiting["waiting_for"]["question"] == "Which colour?"
    assert waiting["waiting_for"]["choices"] == ["Blue", "Red"]
    async with live.api() as client:
        busy = await client.post(f"/api/v1/threads/{posted['thread_id']}/messages", json={"content": "hi"})
    assert busy.status_code == 409  # the paused run still holds the thread
    detail = busy.json()["detail"]
    assert f"run {posted['run_id']}" in detail and f"/api/v1/runs/{posted['run_id']}/cancel" in detail
    assert "{id}" not in detail and "press Stop" not in detail
    assert await answer(live, posted["run_id"], {"answer": "Blue"}) == 202
    done = await live.wait_terminal(posted["run_id"])
    assert done["message"]["content"] == "You chose: The user answered: Blue"
    async with live.api() as client:
        await read_events(client, posted["run_id"], received)
    assert "run.waiting" in received.types and "run.resumed" in received.types
    assert received.ids == list(range(1, received.last_id + 1))
    assert await answer(live, posted["run_id"], {"answer": "again"}) == 409


async def test_ask_first_tool_waits_for_approval_and_deny_tells_the_model(live: LiveNova, llm: ScriptedLLM) -> None:
    await give_tools(live, {"datetime_now": True})
    for decision, expected in ((True, "UTC"), (False, "The user declined")):
        llm.queue(
            ScriptedReply(tool_calls=[("datetime_now", {})]),
            ScriptedReply(text_from=last_tool_result),
        )
        posted = await live.post(await live.new_thread(), "Time please")
        waiting = await wait_status(live, posted["run_id"], "waiting")
        assert waiting["waiting_for"]["kind"] == "approval"
        assert waiting["waiting_for"]["summary"] == "Checking the date and time"
        assert await answer(live, posted["run_id"], {"approve": decision}) == 202
        done = await live.wait_terminal(posted["run_id"])
        assert expected in done["message"]["content"]


async def test_a_pause_survives_a_worker_restart(scaled_live: LiveNova, llm: ScriptedLLM) -> None:
    live = scaled_live  # the module's worker is replaced, as a deploy would; the web stays up
    await give_tools(live, {"ask_user": False})
    llm.queue(ScriptedReply(tool_calls=[("ask_user", {"question": "Name?"})]),
              ScriptedReply(text_from=last_tool_result))  # fmt: skip
    posted = await live.post(await live.new_thread(), "Greet me")
    await wait_status(live, posted["run_id"], "waiting")
    live.kill_workers(signal.SIGKILL)
    live.start_worker()
    assert await answer(live, posted["run_id"], {"answer": "Ada"}) == 202
    done = await live.wait_terminal(posted["run_id"])
    assert done["status"] == "completed"
    assert done["message"]["content"] == "The user answered: Ada"


async def test_cancelling_a_paused_run(live: LiveNova, llm: ScriptedLLM) -> None:
    await give_tools(live, {"ask_user": False})
    llm.queue(ScriptedReply(tool_calls=[("ask_user", {"question": "Sure?"})]))
    posted = await live.post(await live.new_thread(), "Do it")
    await wait_status(live, posted["run_id"], "waiting")
    async with live.api() as client:
        cancelled = await client.post(f"/api/v1/runs/{posted['run_id']}/cancel")
    assert cancelled.status_code == 202
    assert (await live.wait_terminal(posted["run_id"]))["status"] == "cancelled"


async def test_unanswered_pauses_expire(live: LiveNova, llm: ScriptedLLM) -> None:
    from app.context import open_context
    from app.runs.lifecycle import expire_paused
    from app.settings import load_settings

    await give_tools(live, {"ask_user": False})
    llm.queue(ScriptedReply(tool_calls=[("ask_user", {"question": "Still there?"})]))
    posted = await live.post(await live.new_thread(), "Wait for me")
    await wait_status(live, posted["run_id"], "waiting")
    async with live.db.transaction() as session:
        run = await session.get(Run, uuid.UUID(posted["run_id"]))
        assert run is not None
        run.waiting_until = utcnow() - timedelta(minutes=1)
    # The job the worker's cron (or the embedded sweeper) runs every minute, run now.
    ctx = open_context(load_settings(_env_file=None, NOVA_DATA_DIR=str(live.data_dir), **live.env))
    try:
        await expire_paused(ctx)
    finally:
        await ctx.close()
    done = await live.run(posted["run_id"])
    assert done["status"] == RunStatus.FAILED.value
    assert done["error"] == "No answer within 24 hours; the run was stopped."


async def test_a_pause_survives_a_restart_of_embedded_nova(tmp_path: Path, llm: ScriptedLLM) -> None:
    from tests.fixtures.live import live_nova
    from tests.fixtures.server import nova_serve

    async with live_nova("embedded", tmp_path) as live:
        await live.seed(llm.base_url)
        await give_tools(live, {"ask_user": False})
        llm.queue(ScriptedReply(tool_calls=[("ask_user", {"question": "City?"})]),
                  ScriptedReply(text_from=last_tool_result))  # fmt: skip
        posted = await live.post(await live.new_thread(), "Weather?")
        await wait_status(live, posted["run_id"], "waiting")
        live.web.process.kill()
        live.web.process.wait()
        first_web = live.web
        with nova_serve(tmp_path, **live.env) as again:
            live.web = again
            try:
                assert (await live.run(posted["run_id"]))["status"] == "waiting"
                assert await answer(live, posted["run_id"], {"answer": "Lyon"}) == 202
                done = await live.wait_terminal(posted["run_id"])
            finally:
                live.web = first_web
    assert done["message"]["content"] == "The user answered: Lyon"


async def test_two_approvals_in_one_turn_are_asked_one_after_the_other(live: LiveNova, llm: ScriptedLLM) -> None:
    await give_tools(live, {"datetime_now": True, "memory_list": True})
    llm.queue(ScriptedReply(tool_calls=[("datetime_now", {}), ("memory_list", {})]),
              ScriptedReply(text="Both done."))  # fmt: skip
    posted = await live.post(await live.new_thread(), "Two things")
    first = await wait_status(live, posted["run_id"], "waiting")
    assert await answer(live, posted["run_id"], {"approve": True}) == 202
    for _ in range(400):
        second = await live.run(posted["run_id"])
        if second["status"] == "waiting" and second["waiting_for"]["tool"] != first["waiting_for"]["tool"]:
            break
        await asyncio.sleep(0.05)
    assert second["status"] == "waiting", second  # the other call asks in turn
    assert await answer(live, posted["run_id"], {"approve": True}) == 202
    done = await live.wait_terminal(posted["run_id"])
    assert (done["status"], done["message"]["content"]) == ("completed", "Both done.")


async def test_openai_clients_are_told_when_a_run_waits_and_never_retry_it(live: LiveNova, llm: ScriptedLLM) -> None:
    """The official client retries 408, 409, 429 and 5xx: a waiting run must answer none of
    them, or one call would leave several threads each with a run waiting."""
    from openai import AsyncOpenAI

    await give_tools(live, {"ask_user": False})
    llm.queue(ScriptedReply(tool_calls=[("ask_user", {"question": "Which one?"})]))
    async with AsyncOpenAI(base_url=live.url + "/v1", api_key=live.token, max_retries=2) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="helper", messages=[{"role": "user", "content": "Pick"}]
        )
    body = raw.http_response.json()
    thread_id, run_id = raw.headers["x-nova-thread-id"], raw.headers["x-nova-run-id"]
    assert raw.http_response.status_code == 200
    assert body["nova"] == {"status": "waiting", "run_id": run_id, "thread_url": f"{live.url}/threads/{thread_id}"}
    text = body["choices"][0]["message"]["content"]
    assert "Which one?" in text and f"/threads/{thread_id}" in text and f"/api/v1/runs/{run_id}/answer" in text
    async with live.api() as api:
        assert [t["id"] for t in (await api.get("/api/v1/threads")).json()["data"]] == [thread_id]


async def test_an_answer_while_redis_is_down_can_be_given_again(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM, redis_server: object
) -> None:
    from tests.fixtures.redis import RedisServer

    assert isinstance(redis_server, RedisServer)
    async with start_live(request, "scaled", tmp_path) as live:
        await live.seed(llm.base_url)
        await give_tools(live, {"ask_user": False})
        llm.queue(ScriptedReply(tool_calls=[("ask_user", {"question": "Go?"})]),
                  ScriptedReply(text_from=last_tool_result))  # fmt: skip
        posted = await live.post(await live.new_thread(), "Wait")
        await wait_status(live, posted["run_id"], "waiting")
        redis_server.stop()
        try:
            down = await answer(live, posted["run_id"], {"answer": "yes"})
        finally:
            redis_server.start()
        assert down == 503
        assert (await live.run(posted["run_id"]))["status"] == "waiting"
        live.kill_workers(signal.SIGKILL)  # the worker lost its Redis state too: start afresh
        live.start_worker()
        assert await answer(live, posted["run_id"], {"answer": "yes"}) == 202
        done = await live.wait_terminal(posted["run_id"])
    assert done["message"]["content"] == "The user answered: yes"
