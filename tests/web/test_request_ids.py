"""`X-Request-ID`: echoed on every response, in problem+json, and on every log line of the
request and of the run it starts (in-process and on an arq worker)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Run
from app.tokens import service as tokens
from tests.conftest import start_live
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova
from tests.fixtures.runs import finished_run
from tests.fixtures.server import _drain


async def test_a_well_formed_id_is_echoed_and_any_other_replaced(nova: Nova) -> None:
    async with nova.client() as client:
        kept = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:01.x"})
        made = await client.get("/healthz")
        refused = [
            (await client.get("/healthz", headers={"X-Request-ID": sent})).headers["x-request-id"]
            for sent in ("two words", "a" * 129, "new\\nline", "")
        ]
        problem = await client.get("/api/v1/me", headers={"X-Request-ID": "find-me-42", "Authorization": "Bearer x"})
    assert kept.headers["x-request-id"] == "lb-7f3a:01.x"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", new) for new in refused)
    assert problem.status_code == 401 and problem.json()["request_id"] == "find-me-42"


async def test_the_run_a_request_starts_logs_under_its_id(
    nova: Nova, llm: ScriptedLLM, caplog: pytest.LogCaptureFixture
) -> None:
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "t", "write")).secret
    llm.queue(ScriptedReply(status=401))  # the run fails, and says so in the log
    headers = {"authorization": f"Bearer {secret}", "X-Request-ID": "trace-me-1"}
    caplog.set_level(logging.WARNING, logger="app.runs")
    async with nova.client() as client:
        thread = (await client.post("/api/v1/threads", json={}, headers=headers)).json()
        posted = await client.post(f"/api/v1/threads/{thread['id']}/messages", json={"content": "hi"}, headers=headers)
    await finished_run(nova, uuid.UUID(posted.json()["run_id"]))
    async with nova.ctx.db.transaction() as session:
        run = await session.scalar(select(Run))
    assert run is not None and run.request_id == "trace-me-1"
    failed = [r for r in caplog.records if "failed" in r.getMessage() and r.name == "app.runs.lifecycle"]
    assert failed and all(getattr(r, "request_id", None) == "trace-me-1" for r in failed)


@pytest.mark.live
async def test_json_logs_of_the_web_process_and_the_worker_name_the_request_run_and_user(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    async with start_live(request, "scaled", tmp_path, NOVA_LOG_FORMAT="json", NOVA_LOG_LEVEL="info") as live:
        await live.seed(llm.base_url)
        llm.queue(ScriptedReply(status=401))
        thread = await live.new_thread()
        async with live.api() as client:
            posted = await client.post(
                f"/api/v1/threads/{thread}/messages",
                json={"content": "a private question"},
                headers={"X-Request-ID": "worker-trace-9"},
            )
            await client.get("/password-reset/a-secret-reset-token")
            await client.get("/login/oidc/callback?code=secret-code&state=secret-state")
        await live.wait_terminal(posted.json()["run_id"])
        worker = [json.loads(line) for line in worker_logs(tmp_path).splitlines()]
        await asyncio.sleep(0.2)
        _drain(live.web)
        web_lines = list(live.web.output)
    run_id = posted.json()["run_id"]
    failed = [line for line in worker if line.get("run_id") == run_id and "failed" in line["message"]]
    assert failed and all(line["request_id"] == "worker-trace-9" for line in failed)
    assert all(line["user_id"] == str(live.user_id) and line["level"] == "WARNING" for line in failed)
    web = [json.loads(line) for line in web_lines if line.startswith("{")]
    access = [line for line in web if line["logger"] == "uvicorn.access"]
    posted_line = next(line for line in access if f"/threads/{thread}/messages" in line["message"])
    assert posted_line["request_id"] == "worker-trace-9" and posted_line["user_id"] == str(live.user_id)
    everything = "\n".join(web_lines) + worker_logs(tmp_path)
    assert "/password-reset/…" in everything and "callback?…" in everything
    for secret in ("a-secret-reset-token", "secret-code", "secret-state", "a private question", live.token):
        assert secret not in everything


def worker_logs(folder: Path) -> str:
    return "".join(path.read_text() for path in sorted(folder.glob("worker-*.log")))
