from __future__ import annotations

from pathlib import Path

from tests.fixtures.nova import Nova, nova_settings, open_nova, submit
from tests.fixtures.redis import RedisServer


async def test_oversized_body_is_refused_with_413(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        big = "x" * (nova.ctx.settings.max_body_bytes + 10)
        response = await submit(client, "/threads", {"content": big})
        api = await client.post("/api/v1/threads", content=big.encode(), headers={"authorization": "Bearer x"})
    assert response.status_code == 413
    assert api.status_code == 413
    assert api.headers["content-type"] == "application/problem+json"


async def test_streamed_body_without_length_is_also_limited(nova: Nova) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"y" * 65536

    async with nova.client() as client:
        response = await client.post("/login", content=chunks())
    assert response.status_code == 413


async def test_security_headers_forbid_inline_scripts(nova: Nova) -> None:
    async with nova.client() as client:
        response = await client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"


async def test_unknown_page_is_a_404_page_and_api_gets_problem_json(nova: Nova) -> None:
    async with nova.client() as client:
        page = await client.get("/no/such/page")
        api = await client.get("/api/v1/nothing-here")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 404


async def test_healthz_is_alive_and_readyz_reports_each_dependency(nova: Nova) -> None:
    async with nova.client() as client:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok", "version": "0.1.0"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "version": "0.1.0", "dependencies": {"database": "ok"}}


async def test_readyz_is_503_when_the_database_is_gone_and_healthz_stays_200(nova: Nova) -> None:
    from app.db import make_engine

    original = nova.ctx.db.engine
    nova.ctx.db.engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    try:
        async with nova.client() as client:
            ready = await client.get("/readyz")
            alive = await client.get("/healthz")
    finally:
        await nova.ctx.db.engine.dispose()
        nova.ctx.db.engine = original
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["dependencies"] == {"database": "unreachable"}
    assert alive.status_code == 200


async def test_readyz_reports_redis_down_and_back(
    database_url: str, tmp_path: Path, redis_url: str, redis_server: RedisServer
) -> None:
    async with open_nova(nova_settings(database_url, tmp_path, REDIS_URL=redis_url)) as nova:
        async with nova.client() as client:
            before = await client.get("/readyz")
            redis_server.stop()
            down = await client.get("/readyz")
            alive = await client.get("/healthz")
            redis_server.start()
            back = await client.get("/readyz")
    assert before.status_code == 200
    assert before.json()["dependencies"] == {"database": "ok", "redis": "ok"}
    assert down.status_code == 503
    assert down.json()["dependencies"] == {"database": "ok", "redis": "unreachable"}
    assert alive.status_code == 200
    assert back.status_code == 200


async def test_post_to_a_page_from_another_site_is_refused(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        response = await client.post("/threads", data={"csrf_token": "forged"})
    assert response.status_code == 403


async def test_only_allowed_hosts_are_served(database_url: str, tmp_path: object) -> None:
    from pathlib import Path

    import httpx

    from app.main import create_app
    from tests.fixtures.nova import nova_settings

    assert isinstance(tmp_path, Path)
    app = create_app(nova_settings(database_url, tmp_path, ALLOWED_HOSTS="nova.lan"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://nova.lan") as client:
            allowed = await client.get("/healthz")
        async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as client:
            refused = await client.get("/healthz")
    assert allowed.status_code == 200 and refused.status_code == 400
