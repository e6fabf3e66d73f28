"""The Host header a client sends never makes it into a link, a form or a Location."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.fixtures.nova import PASSWORD, TEST_PUBLIC_URL, Client, csrf_in, nova_settings, open_nova


async def test_by_default_only_the_public_host_and_loopback_are_served(database_url: str, tmp_path: Path) -> None:
    async with open_nova(nova_settings(database_url, tmp_path)) as nova:
        transport = httpx.ASGITransport(app=nova.app)
        statuses = {}
        for url in (TEST_PUBLIC_URL, "http://127.0.0.1:8000", "http://localhost", "http://evil.example"):
            async with httpx.AsyncClient(transport=transport, base_url=url) as client:
                statuses[url] = (await client.get("/login")).status_code
    assert statuses == {TEST_PUBLIC_URL: 200, "http://127.0.0.1:8000": 200, "http://localhost": 200,
                        "http://evil.example": 400}  # fmt: skip


async def test_a_foreign_host_is_not_reflected_even_when_every_host_is_allowed(
    database_url: str, tmp_path: Path
) -> None:
    settings = nova_settings(database_url, tmp_path, ALLOWED_HOSTS="*", NOVA_PUBLIC_URL="https://nova.example.org")
    async with open_nova(settings) as nova:
        await nova.create_user("ada@example.com")
        transport = httpx.ASGITransport(app=nova.app, client=("127.0.0.1", 40000))
        async with Client(transport=transport, base_url="http://evil.example") as client:
            page = await client.get("/login")
            guarded = await client.get("/threads")
            form = {"email": "ada@example.com", "password": PASSWORD, "csrf_token": csrf_in(page.text)}
            login = await client.post("/login", data=form)
    assert page.status_code == 200
    assert "evil.example" not in page.text
    assert 'action="https://nova.example.org/login"' in page.text
    assert guarded.headers["location"].startswith("https://nova.example.org/login?next=")
    assert login.status_code == 303 and login.headers["location"] == "https://nova.example.org/threads"
