"""CSRF: the token is bound to the session, and cross-site browsers are refused outright."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.models import Thread
from app.tokens import service as tokens
from tests.fixtures.nova import PASSWORD, TEST_PUBLIC_URL, Nova, csrf_for, csrf_in, nova_settings, open_nova, submit


async def thread_count(nova: Nova) -> int:
    async with nova.ctx.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Thread)) or 0)


async def test_a_tossed_cookie_with_a_matching_field_is_refused(nova: Nova) -> None:
    await nova.create_user("victim@example.com")
    async with nova.client() as attacker:  # a valid pre-session pair, fetched by the attacker
        attacker_token = csrf_in((await attacker.get("/login")).text)
        attacker_cookie = attacker.cookies["nova_csrf"]
    async with await nova.login("victim@example.com") as victim:
        victim.cookies.set("nova_csrf", attacker_cookie)  # set from a sibling site
        with_origin = await victim.post(
            "/threads", data={"csrf_token": attacker_token}, headers={"origin": "http://evil.example"}
        )
        without_origin = await victim.post("/threads", data={"csrf_token": attacker_token})
        victim.cookies.set("nova_csrf", "chosen-by-attacker")  # the old double-submit trick
        chosen = await victim.post("/threads", data={"csrf_token": "chosen-by-attacker"})
        assert await thread_count(nova) == 0
        genuine = await submit(victim, "/threads")
    assert [with_origin.status_code, without_origin.status_code, chosen.status_code] == [403, 403, 403]
    assert genuine.status_code == 303 and await thread_count(nova) == 1


async def test_another_sessions_token_is_refused(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as first, await nova.login("ada@example.com") as second:
        first_token = await csrf_for(first)
        assert first_token != await csrf_for(second)
        crossed = await second.post("/threads", data={"csrf_token": first_token})
        header = await second.post("/threads", headers={"x-csrf-token": first_token})
        own = await second.post("/threads", headers={"x-csrf-token": await csrf_for(second)})
    assert crossed.status_code == 403 and header.status_code == 403
    assert own.status_code == 303  # htmx sends the token in the header


async def test_cross_site_requests_are_refused_even_with_the_right_token(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        token = await csrf_for(client)
        refused = [
            await client.post("/threads", data={"csrf_token": token}, headers=headers)
            for headers in (
                {"origin": "http://evil.example"},
                {"origin": "null"},
                {"origin": "http://testserver.evil.example"},
                {"sec-fetch-site": "cross-site"},
                {"sec-fetch-site": "same-site", "origin": TEST_PUBLIC_URL},
            )
        ]
        same_origin = await client.post(
            "/threads", data={"csrf_token": token}, headers={"origin": TEST_PUBLIC_URL, "sec-fetch-site": "same-origin"}
        )
    assert [response.status_code for response in refused] == [403] * 5
    assert "another site" in refused[0].text
    assert same_origin.status_code == 303
    assert await thread_count(nova) == 1


async def test_a_cross_site_login_is_refused(nova: Nova) -> None:
    """Login CSRF: the attacker's own valid pre-session pair is no use from another site."""
    await nova.create_user("attacker@example.com")
    async with nova.client() as browser:
        token = csrf_in((await browser.get("/login")).text)
        form = {"email": "attacker@example.com", "password": PASSWORD, "csrf_token": token}
        refused = await browser.post("/login", data=form, headers={"origin": "http://evil.example"})
        accepted = await browser.post("/login", data=form, headers={"origin": TEST_PUBLIC_URL})
    assert refused.status_code == 403 and "nova_session" not in refused.headers.get("set-cookie", "")
    assert accepted.status_code == 303


async def test_the_api_takes_bearer_tokens_without_csrf(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    async with nova.ctx.db.transaction() as session:
        secret = (await tokens.create_token(session, user.id, "script", "write")).secret
    async with nova.client() as script:
        response = await script.post(
            "/api/v1/threads", json={"title": "From a script"}, headers={"authorization": f"Bearer {secret}"}
        )
    assert response.status_code == 201, response.text


async def test_a_changed_password_renders_forms_for_the_new_session(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        changed = await submit(
            client,
            "/settings/password",
            {
                "current_password": PASSWORD,
                "new_password": "a new long password",
                "confirm_password": "a new long password",
            },
            follow_redirects=True,
        )
        assert changed.status_code == 200, changed.text
        logout = await client.post("/logout", data={"csrf_token": csrf_in(changed.text)})
    assert logout.status_code == 303


async def test_https_cookies_have_host_only_names(database_url: str, tmp_path: Path) -> None:
    settings = nova_settings(database_url, tmp_path, NOVA_SECURE_COOKIES="true", NOVA_PUBLIC_URL="https://testserver")
    async with open_nova(settings) as nova:
        await nova.create_user("ada@example.com")
        async with nova.client() as client:
            client.base_url = "https://testserver"
            page = await client.get("/login")
            form = {"email": "ada@example.com", "password": PASSWORD, "csrf_token": csrf_in(page.text)}
            login = await client.post("/login", data=form)
            threads = await client.get("/threads")
    assert page.headers["set-cookie"].startswith("__Host-nova_csrf=")
    assert "Secure" in page.headers["set-cookie"] and "Path=/" in page.headers["set-cookie"]
    assert login.status_code == 303, login.text
    assert login.headers["set-cookie"].startswith("__Host-nova_session=")
    assert threads.status_code == 200
