"""Each input that once answered 500, on both databases: refused with a clear 4xx, nothing stored."""

from __future__ import annotations

import json
import uuid

import pytest

from app.models import Role
from app.tokens import service as tokens
from app.web.params import MAX_NUMBER
from tests.fixtures.factories import make_agent, make_finished_run, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, csrf_for, field_error, submit
from tests.test_route_access import row_count

pytestmark = pytest.mark.both_databases  # NUL and PostgreSQL: the dialect matters

NUMBERS_THAT_ARE_NOT = [
    "²",
    "1²",
    "١٢",
    "\U0001d7d9",
    "9" * 20,
    "9" * 5000,
    str(MAX_NUMBER + 1),
    "-1",
    "+1",
    "1.5",
    "0x1",
]


async def _token(nova: Nova, user_id: uuid.UUID) -> str:
    async with nova.ctx.db.transaction() as session:
        return (await tokens.create_token(session, user_id, "bad-input", "write")).secret


async def test_nul_in_the_login_email_re_renders_the_form(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with nova.client() as client:
        response = await submit(client, "/login", {"email": "ada\x00@example.com", "password": "x"})
    assert response.status_code == 400
    assert "NUL" in (field_error(response.text, "email") or "")


async def test_resume_points_and_pages_are_parsed_strictly(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    provider = await make_provider(nova, user.id, llm.base_url)
    thread = await make_thread(nova, user.id)
    run = await make_finished_run(nova, thread, await make_agent(nova, user.id, provider))
    bearer = {"authorization": f"Bearer {await _token(nova, user.id)}"}
    async with await nova.login("ada@example.com") as client:
        for raw in NUMBERS_THAT_ARE_NOT:
            answers = [
                await client.get(f"/api/v1/runs/{run.id}/events", headers=bearer | {"last-event-id": raw.encode()}),
                await client.get(f"/api/v1/runs/{run.id}/events", params={"after": raw}, headers=bearer),
                await client.get(f"/threads/{thread.id}/runs/{run.id}/stream", params={"after": raw}),
                await client.get("/api/v1/threads", params={"limit": raw}, headers=bearer),
                await client.get("/api/v1/runs", params={"limit": raw}, headers=bearer),
                await client.get("/threads", params={"page": raw}),
            ]
            for response in answers:
                assert response.status_code in (400, 422), (raw, response.request.url, response.status_code)
            assert answers[0].headers["content-type"] == "application/problem+json"
            assert "Last-Event-ID" in answers[0].json()["errors"]


async def test_plain_numbers_still_work(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    await make_thread(nova, user.id, "Only thread")
    async with await nova.login("ada@example.com") as client:
        first, far = await client.get("/threads", params={"page": "1"}), await client.get("/threads?page=99999")
    assert first.status_code == 200 and "Only thread" in first.text
    assert far.status_code == 200 and "Only thread" not in far.text


async def test_json_too_deep_or_not_text_is_refused(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id)
    bearer = {"authorization": f"Bearer {await _token(nova, user.id)}", "content-type": "application/json"}
    deep = b'{"title": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    shallow_but_too_deep = json.dumps({"title": json.loads("[" * 40 + "]" * 40)}).encode()
    before = await row_count(nova)
    async with nova.client() as client:
        answers = {
            "deep": await client.post("/api/v1/threads", content=deep, headers=bearer),
            "33 levels": await client.post("/api/v1/threads", content=shallow_but_too_deep, headers=bearer),
            "NaN": await client.post("/api/v1/threads", content=b'{"title": NaN}', headers=bearer),
            "surrogate": await client.post(
                f"/api/v1/threads/{thread.id}/messages", content=b'{"content": "hi \\ud800"}', headers=bearer
            ),
            "NUL": await client.post(
                f"/api/v1/threads/{thread.id}/messages", content=b'{"content": "hi \\u0000"}', headers=bearer
            ),
            "NUL title": await client.post("/api/v1/threads", content=b'{"title": "a\\u0000"}', headers=bearer),
            "key": await client.post("/api/v1/threads", content=b'{"\\ud800": 1}', headers=bearer),
            "500 KB title": await client.post("/api/v1/threads", json={"title": "t" * 500_000}, headers=bearer),
        }
    for name, response in answers.items():
        assert response.status_code == 422, name
        assert response.headers["content-type"] == "application/problem+json", name
    assert "nested" in answers["deep"].json()["detail"]
    assert "content" in answers["surrogate"].json()["errors"]
    assert "title" in answers["500 KB title"].json()["errors"]
    assert await row_count(nova) == before


async def test_openai_messages_with_nul_or_deep_json_are_400(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    bearer = {"authorization": f"Bearer {await _token(nova, user.id)}", "content-type": "application/json"}
    nul = json.dumps({"model": "nova", "messages": [{"role": "user", "content": "a\x00b"}]}).encode()
    deep = b'{"model": "nova", "messages": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    before = await row_count(nova)
    async with nova.client() as client:
        answers = [await client.post("/v1/chat/completions", content=body, headers=bearer) for body in (nul, deep)]
    for response in answers:
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert "NUL" in answers[0].json()["error"]["message"]
    assert await row_count(nova) == before


async def test_nul_in_forms_and_oversized_titles_change_nothing(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id, "Kept title")
    async with await nova.login("ada@example.com") as client:
        before = await row_count(nova)  # the login's session is not what this test is about
        rename_nul = await submit(client, f"/threads/{thread.id}/rename", {"title": "a\x00b"})
        rename_long = await submit(client, f"/threads/{thread.id}/rename", {"title": "t" * 500_000})
        message = await submit(client, f"/threads/{thread.id}/messages", {"content": "hello\x00"})
        search = await client.get("/memory", params={"q": "tea\x00"})
        page = await client.get(f"/threads/{thread.id}")
    for response in (rename_nul, rename_long, message, search):
        assert response.status_code == 422, response.request.url
    assert "title" in rename_long.text and "200" in rename_long.text
    assert "Kept title" in page.text
    assert await row_count(nova) == before


async def test_malformed_urls_in_settings_forms_are_field_errors(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        before = await row_count(nova)
        for url in ["http://[::1", "http://[::1]:99999/", "http://host:port/", "http://a b/", "http://" + "x" * 600]:
            form = {"name": "Mine", "kind": "openai_compatible", "base_url": url, "default_model": "m"}
            provider = await submit(client, "/providers", form)
            search = await submit(client, "/tools/settings/web_search", {"url": url})
            calendar = await submit(client, "/tools/settings/calendar", {"url": url, "username": "u", "password": "p"})
            assert provider.status_code == 400 and field_error(provider.text, "base_url"), url
            assert search.status_code == 400 and field_error(search.text, "web_search-url"), url
            assert calendar.status_code == 400 and field_error(calendar.text, "calendar-url"), url
    assert await row_count(nova) == before


async def test_numbers_in_forms_are_field_errors(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    form = {"name": "Mine", "kind": "openai_compatible", "base_url": llm.base_url, "default_model": "m"}
    async with await nova.login("root@example.com") as client:
        for value in ["²", "9" * 5000]:
            provider = await submit(client, "/providers", form | {"max_context_tokens": value})
            invite = await submit(client, "/admin/invites", {"days": value})
            assert provider.status_code == 400 and field_error(provider.text, "max_context_tokens")
            assert invite.status_code == 400


async def test_malformed_authorization_is_401(nova: Nova) -> None:
    garbage = [b"Bearer", b"Bearer ", b"Bearer \xff\xfe", b"Bearer a\x00b", b"Basic \xc3(", b"bearer " + b"x" * 10_000,
               b"\x00", b"Bearer nova_" + "é".encode()]  # fmt: skip
    async with nova.client() as client:
        for authorization in garbage:
            response = await client.get("/api/v1/me", headers={"authorization": authorization})
            assert response.status_code == 401, authorization


async def test_malformed_cookies_are_anonymous(nova: Nova) -> None:
    garbage = [b"nova_session=\xff\xfe", b"nova_session=a.b.c\x00", b'nova_session="unterminated',
               b"nova_session=" + b"x" * 8000, b"=;=;;nova_session", b"nova_csrf=\xff; nova_session=."]  # fmt: skip
    async with nova.client() as client:
        for cookie in garbage:
            page = await client.get("/threads", headers={"cookie": cookie})
            login = await client.get("/login", headers={"cookie": cookie})
            assert page.status_code == 303 and "/login" in page.headers["location"], cookie
            assert login.status_code == 200, cookie


def multipart(fields: dict[bytes, bytes], boundary: bytes = b"nova-boundary") -> bytes:
    parts = [b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, name, value)
             for name, value in fields.items()]  # fmt: skip
    return b"".join(parts) + b"--%s--\r\n" % boundary


async def test_lone_surrogates_sent_as_utf7_multipart_are_refused(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    thread = await make_thread(nova, user.id, "Kept title")
    headers = {"content-type": "multipart/form-data; boundary=nova-boundary; charset=utf-7"}
    async with await nova.login("ada@example.com") as client:
        token = (await csrf_for(client)).encode()
        before = await row_count(nova)
        in_value = await client.post(
            f"/threads/{thread.id}/messages", headers=headers,
            content=multipart({b"csrf_token": token, b"content": "hi \ud800".encode("utf-7")}),
        )  # fmt: skip
        in_name = await client.post(
            f"/threads/{thread.id}/rename", headers=headers,
            content=multipart({b"csrf_token": token, "\ud800".encode("utf-7"): b"+AAA-"}),  # "\x00" in UTF-7
        )  # fmt: skip
    assert in_value.status_code == 422 and "surrogate" in in_value.text
    assert in_name.status_code == 422 and "NUL" in in_name.text
    assert await row_count(nova) == before
