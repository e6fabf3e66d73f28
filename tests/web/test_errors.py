"""The one error mapping: an HTML page, a toast for htmx, problem+json, OpenAI's shape."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import QUEUE_DOWN_MESSAGE, Conflict, NotFound, QueueUnavailable, ValidationFailed
from app.queue import ArqJobQueue
from app.tokens import service as tokens
from app.web.errors import GONE
from tests.fixtures.factories import make_agent, make_provider, make_thread
from tests.fixtures.nova import Nova, submit

HTMX = {"HX-Request": "true"}
# What Redis says when it is down: the log may have it, people must not see it.
REDIS_TEXT = "Error 111 connecting to 127.0.0.1:6379. Connection refused."
DEAD_REDIS = "redis://127.0.0.1:1"

RAISED: dict[str, Exception] = {
    "not-found": NotFound("thread 42"),
    "conflict": Conflict("A reply is still being written in this thread."),
    "invalid": ValidationFailed({"title": "Give the thread a title."}),
    "too-many": HTTPException(429, "Too many attempts: wait a minute.", headers={"Retry-After": "60"}),
    "crash": RuntimeError("database password is hunter2"),
    "unavailable": HTTPException(503, "Nova is restarting."),
    "queue": QueueUnavailable(REDIS_TEXT),
}
CASES = [  # (kind, status, what people read)
    ("not-found", 404, GONE),
    ("conflict", 409, "A reply is still being written in this thread."),
    ("invalid", 422, "Give the thread a title."),
    ("too-many", 429, "Too many attempts: wait a minute."),
    ("crash", 500, "Something went wrong on our side."),
    ("unavailable", 503, "Nova is restarting."),
    ("queue", 503, QUEUE_DOWN_MESSAGE),
]


async def _raise(request: Request) -> Response:
    raise RAISED[request.path_params["kind"]]


@pytest.fixture
async def client(nova: Nova) -> AsyncIterator[httpx.AsyncClient]:
    """A client for this app with routes that raise each error, on a page, /api and /v1."""
    nova.app.router.routes[:0] = [
        Route(prefix + "/_raise/{kind}", _raise, methods=["GET"]) for prefix in ("", "/api/v1", "/v1")
    ]
    # 500s are re-raised after their response is sent; the test wants the response.
    transport = httpx.ASGITransport(app=nova.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def toast_text(html: str) -> str:
    match = re.search(r'<p class="toast-message" role="alert">([^<]*)</p>', html)
    assert match, html
    return unescape(match.group(1))


@pytest.mark.parametrize(("kind", "status", "message"), CASES)
async def test_htmx_request_gets_an_out_of_band_toast(
    client: httpx.AsyncClient, kind: str, status: int, message: str
) -> None:
    response = await client.get(f"/_raise/{kind}", headers=HTMX)
    assert response.status_code == 200  # htmx swaps nothing from 4xx/5xx answers
    assert response.headers["hx-reswap"] == "none"
    assert "HX-Request" in response.headers["vary"]
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text
    assert toast_text(response.text) == message
    assert 'aria-label="Dismiss this message"' in response.text
    assert "<html" not in response.text
    assert "hunter2" not in response.text and "6379" not in response.text


@pytest.mark.parametrize(("kind", "status", "message"), CASES)
async def test_plain_request_gets_the_error_page(
    client: httpx.AsyncClient, kind: str, status: int, message: str
) -> None:
    response = await client.get(f"/_raise/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    assert "hx-reswap" not in response.headers
    assert "hunter2" not in response.text and "6379" not in response.text


async def test_boosted_navigation_gets_the_error_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/_raise/not-found", headers=HTMX | {"HX-Boosted": "true"})
    assert response.status_code == 404
    assert "<html" in response.text
    assert "There is nothing here." in response.text


@pytest.mark.parametrize(("kind", "status", "message"), CASES)
async def test_api_gets_problem_json_even_from_htmx(
    client: httpx.AsyncClient, kind: str, status: int, message: str
) -> None:
    response = await client.get(f"/api/v1/_raise/{kind}", headers=HTMX)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert "hunter2" not in response.text and "6379" not in response.text
    if kind == "queue":
        assert body["detail"] == QUEUE_DOWN_MESSAGE
    if kind == "too-many":
        assert response.headers["retry-after"] == "60"


@pytest.mark.parametrize(("kind", "status", "message"), CASES)
async def test_openai_routes_get_openai_errors(client: httpx.AsyncClient, kind: str, status: int, message: str) -> None:
    response = await client.get(f"/v1/_raise/{kind}")
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "hunter2" not in response.text and "6379" not in response.text
    if kind == "queue":
        assert error == {
            "message": QUEUE_DOWN_MESSAGE,
            "type": "server_error",
            "param": None,
            "code": "queue_unavailable",
        }


async def test_htmx_rename_of_a_deleted_thread_is_a_toast(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id)
    async with await nova.login("ada@example.com") as client:
        await submit(client, f"/threads/{thread.id}/delete")
        response = await submit(client, f"/threads/{thread.id}/rename", {"title": "New"}, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-reswap"] == "none"
    assert toast_text(response.text) == GONE


async def test_a_form_that_shows_field_errors_keeps_showing_them(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id)
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, f"/threads/{thread.id}/rename", {"title": "  "}, headers=HTMX)
    assert response.status_code == 400
    assert "hx-reswap" not in response.headers
    assert "toast" not in response.text
    assert 'id="thread-title"' in response.text
    assert 'id="thread-title-error"' in response.text


async def test_pages_carry_the_toast_area_and_its_script(nova: Nova) -> None:
    async with nova.client() as client:
        page = await client.get("/login")
        script = await client.get("/static/toasts.js")
    assert '<div id="toasts"></div>' in page.text
    assert '<template id="toast-template"><div class="toast toast-error" data-toast>' in page.text
    assert re.search(r'<script src="[^"]*/static/toasts\.js" defer></script>', page.text)
    assert script.status_code == 200 and "htmx:load" in script.text


async def _with_redis_down(nova: Nova) -> tuple[str, str]:
    """A user with an agent and a token, and a job queue whose Redis does not answer."""
    user = await nova.create_user("ada@example.com")
    await make_agent(nova, user.id, await make_provider(nova, user.id, "http://127.0.0.1:9/v1"))
    thread = await make_thread(nova, user.id)
    async with nova.ctx.db.transaction() as session:
        issued = await tokens.create_token(session, user.id, "tests", "write")
    await nova.ctx.jobs.close()
    nova.ctx.jobs = ArqJobQueue(DEAD_REDIS)
    return issued.secret, str(thread.id)


async def test_redis_down_through_the_api_is_a_503_problem(nova: Nova) -> None:
    token, thread_id = await _with_redis_down(nova)
    async with nova.client() as client:
        response = await client.post(
            f"/api/v1/threads/{thread_id}/messages",
            json={"content": "Hello?", "agent": "helper"},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == QUEUE_DOWN_MESSAGE
    assert "127.0.0.1" not in response.text


async def test_redis_down_through_v1_is_an_openai_error(nova: Nova) -> None:
    token, _ = await _with_redis_down(nova)
    async with nova.client() as client:
        response = await client.post(
            "/v1/chat/completions",
            json={"model": "helper", "messages": [{"role": "user", "content": "Hi"}]},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    assert response.json()["error"]["message"] == QUEUE_DOWN_MESSAGE
