from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fixtures.nova import PASSWORD, Nova, nova_settings, open_nova, submit


async def test_login_page_renders_a_form_with_csrf(nova: Nova) -> None:
    async with nova.client() as client:
        response = await client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text
    assert "nova_csrf" in response.headers["set-cookie"]


@pytest.mark.both_databases
async def test_login_then_logout(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        page = await client.get("/threads")
        assert page.status_code == 200
        assert "ada@example.com" in page.text
        await submit(client, "/logout")
        after = await client.get("/threads")
    assert after.status_code == 303
    assert after.headers["location"].startswith("http://testserver/login")


async def test_wrong_password_keeps_email_and_says_why(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with nova.client() as client:
        response = await submit(client, "/login", {"email": "Ada@Example.com", "password": "nope"})
    assert response.status_code == 400
    assert "Wrong email or password" in response.text
    assert 'value="ada@example.com"' in response.text
    assert "nope" not in response.text


async def test_login_without_csrf_is_refused(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with nova.client() as client:
        await client.get("/login")
        response = await client.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 403


async def test_wrong_passwords_from_one_address_do_not_lock_out_another(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with nova.client("203.0.113.7") as guesser:
        for _ in range(nova.ctx.settings.login_attempts_per_account_ip):
            wrong = await submit(guesser, "/login", {"email": "ada@example.com", "password": "wrong"})
            assert wrong.status_code == 400
        blocked = await submit(guesser, "/login", {"email": "ada@example.com", "password": PASSWORD})
        other_account = await submit(guesser, "/login", {"email": "bob@example.com", "password": "wrong"})
    async with nova.client("198.51.100.20") as owner:
        owner_login = await submit(owner, "/login", {"email": "ada@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in blocked.text
    assert 890 <= int(blocked.headers["retry-after"]) <= 900
    assert other_account.status_code == 400  # that address is limited on this account only
    assert owner_login.status_code == 303


async def test_an_account_guessed_from_many_addresses_backs_off_instead_of_locking(
    database_url: str, tmp_path: Path
) -> None:
    settings = nova_settings(database_url, tmp_path, NOVA_LOGIN_ATTEMPTS_PER_ACCOUNT="3")
    async with open_nova(settings) as nova:
        await nova.create_user("ada@example.com")
        for n in range(3):
            async with nova.client(f"203.0.113.{n}") as guesser:
                await submit(guesser, "/login", {"email": "ada@example.com", "password": "wrong"})
        async with nova.client("198.51.100.20") as owner:
            too_soon = await submit(owner, "/login", {"email": "ada@example.com", "password": PASSWORD})
            await asyncio.sleep(int(too_soon.headers["retry-after"]))
            later = await submit(owner, "/login", {"email": "ada@example.com", "password": PASSWORD})
    assert too_soon.status_code == 429
    assert int(too_soon.headers["retry-after"]) <= 1  # 1 s after the first failure over the limit
    assert later.status_code == 303


async def test_login_is_rate_limited_per_ip(nova: Nova) -> None:
    async with nova.client() as client:
        for n in range(nova.ctx.settings.login_attempts_per_ip):
            await submit(client, "/login", {"email": f"user{n}@example.com", "password": "wrong"})
        await nova.create_user("fresh@example.com")
        blocked = await submit(client, "/login", {"email": "fresh@example.com", "password": PASSWORD})
    assert blocked.status_code == 429


async def test_next_parameter_is_followed_only_for_local_paths(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with nova.client() as client:
        local = await submit(client, "/login", {"email": "ada@example.com", "password": PASSWORD, "next": "/agents"})
    async with nova.client() as client:
        evil = await submit(
            client, "/login",
            {"email": "ada@example.com", "password": PASSWORD, "next": "//evil.example/x"},
        )  # fmt: skip
    assert local.headers["location"] == "/agents"
    assert evil.headers["location"] == "http://testserver/threads"


@pytest.mark.both_databases
async def test_suspended_user_cannot_log_in_and_loses_sessions(nova: Nova) -> None:
    from app.accounts import service

    user = await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        async with nova.ctx.db.transaction() as session:
            await service.set_active(session, user.id, active=False)
        assert (await client.get("/threads")).status_code == 303
    async with nova.client() as client:
        response = await submit(client, "/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 400
