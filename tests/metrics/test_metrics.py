"""GET /metrics: who may scrape it, and the figures after real runs — in one process, and with
the web process and an arq worker counting into a shared directory."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.models import Role, User
from app.tokens import service as tokens
from tests.conftest import start_live
from tests.fixtures.factories import make_agent, make_provider
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova
from tests.fixtures.runs import finished_run


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the scrape, by name and labels (parsed by prometheus-client itself)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def _token(nova: Nova, user: User, scope: str) -> str:
    async with nova.ctx.db.transaction() as session:
        return (await tokens.create_token(session, user.id, scope, scope)).secret


async def test_only_an_admin_scoped_token_may_scrape(nova: Nova) -> None:
    admin = await nova.create_user("root@example.com", role=Role.ADMIN)
    user = await nova.create_user("ada@example.com")
    admin_write, user_write = await _token(nova, admin, "write"), await _token(nova, user, "write")
    admin_token = await _token(nova, admin, "admin")
    async with nova.client() as client:
        anonymous = await client.get("/metrics")
        not_admin = await client.get("/metrics", headers={"authorization": f"Bearer {user_write}"})
        narrow = await client.get("/metrics", headers={"authorization": f"Bearer {admin_write}"})
        scraped = await client.get("/metrics", headers={"authorization": f"Bearer {admin_token}"})
        browser = await nova.login("root@example.com")
        with_cookie = await browser.get("/metrics")
        await browser.aclose()
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    assert not_admin.status_code in (403, 404) and narrow.status_code == 403
    assert with_cookie.status_code == 401  # a browser session is not a scrape credential
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    found = samples(scraped.text)
    assert value(found, "nova_runs_in_progress", status="queued") == 0


async def test_a_run_and_its_requests_are_counted(nova: Nova, llm: ScriptedLLM) -> None:
    admin = await nova.create_user("root@example.com", role=Role.ADMIN)
    agent = await make_agent(nova, admin.id, await make_provider(nova, admin.id, llm.base_url))
    write, scrape = await _token(nova, admin, "write"), await _token(nova, admin, "admin")
    llm.queue(ScriptedReply(text="four little words here"))
    async with nova.client() as client:
        client.headers["authorization"] = f"Bearer {scrape}"
        before = samples((await client.get("/metrics")).text)
        headers = {"authorization": f"Bearer {write}"}
        thread = (await client.post("/api/v1/threads", json={}, headers=headers)).json()
        posted = await client.post(f"/api/v1/threads/{thread['id']}/messages", json={"content": "hi"}, headers=headers)
        await finished_run(nova, uuid.UUID(posted.json()["run_id"]))
        await client.get("/no/such/page")
        after = samples((await client.get("/metrics")).text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("nova_runs_finished_total", status="completed", agent=str(agent.id)) == 1
    assert grew("nova_run_duration_seconds_count", status="completed") == 1
    assert grew("nova_run_first_token_seconds_count") == 1 and grew("nova_run_wait_seconds_count") == 1
    assert grew("nova_model_tokens_total", direction="in", provider="openai_compatible", model="scripted-small") == 10
    assert grew("nova_model_tokens_total", direction="out", provider="openai_compatible", model="scripted-small") > 0
    route = {"route": "api:post_message", "method": "POST"}
    assert sum(grew("nova_http_requests_total", **route, status=s) for s in ("200", "201", "202")) == 1
    assert grew("nova_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert grew("nova_http_request_duration_seconds_count", route="health:metrics") >= 1


@pytest.mark.live
async def test_the_web_process_adds_up_what_the_worker_counted(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> None:
    async with start_live(request, "scaled", tmp_path, NOVA_METRICS_DIR=str(tmp_path / "metrics")) as live:
        await live.seed(llm.base_url)
        async with live.db.transaction() as session:
            admin = await session.get(User, live.user_id)
            assert admin is not None
            admin.role = Role.ADMIN
            scrape = (await tokens.create_token(session, live.user_id, "scrape", "admin")).secret
        llm.queue(ScriptedReply(status=500), ScriptedReply(text=" ".join(["word"] * 40), tokens_per_second=40))
        posted = await live.post(await live.new_thread())
        async with httpx.AsyncClient(base_url=live.url, headers={"authorization": f"Bearer {live.token}"}) as client:
            async with client.stream("GET", f"/api/v1/runs/{posted['run_id']}/events") as stream:
                lines = stream.aiter_lines()  # held: a dropped iterator closes the stream
                assert await anext(lines) == "retry: 1000"
                during = samples((await client.get("/metrics", headers={"authorization": f"Bearer {scrape}"})).text)
        await live.wait_terminal(posted["run_id"])
        async with live.api(scrape) as client:
            after = samples((await client.get("/metrics")).text)
    assert value(during, "nova_sse_connections") == 1  # the web process's open stream, from its own file
    assert value(after, "nova_sse_connections") == 0
    # Counted by the worker, added up by the web process:
    finished = {dict(labels)["status"]: v for (name, labels), v in after.items() if name == "nova_runs_finished_total"}
    assert finished == {"completed": 1}
    assert value(after, "nova_provider_errors_total", kind="server") == 1
    assert value(after, "nova_model_tokens_total", direction="in", provider="openai_compatible",
                 model="scripted-small") >= 10  # fmt: skip
    assert any(name == "nova_http_requests_total" for name, _ in after)  # and by the web process itself
    assert list((tmp_path / "metrics").glob("counter_*.db"))
