"""Token scopes (read ⊂ write ⊂ admin, checked alike on /api and /v1) and token lifetimes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import ApiToken, Role
from tests.fixtures.nova import Nova, field_error, submit
from tests.tokens.test_views import create_token_via_ui


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


async def test_a_token_can_be_given_a_lifetime_and_stops_working_after_it(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, "/tokens", {"name": "week", "scope": "read", "expires_in_days": "7"})
    assert response.status_code == 200
    async with nova.ctx.db.transaction() as session:
        token = await session.scalar(select(ApiToken).where(ApiToken.name == "week"))
        assert token is not None and token.expires_at is not None
        assert timedelta(days=6, hours=23) < token.expires_at - utcnow() <= timedelta(days=7)
    assert token.expires_at.strftime("%Y-%m-%d") in response.text  # the list shows when it ends
    secret = response.text.split('id="new-token"')[1].split(">")[1].split("<")[0]
    async with nova.client() as client:
        assert (await client.get("/api/v1/me", headers=bearer(secret))).status_code == 200
        async with nova.ctx.db.transaction() as session:
            stored = await session.get(ApiToken, token.id)
            assert stored is not None
            stored.expires_at = utcnow() - timedelta(seconds=1)
        expired = await client.get("/api/v1/me", headers=bearer(secret))
        openai = await client.get("/v1/models", headers=bearer(secret))
    assert expired.status_code == 401 and openai.status_code == 401


async def test_a_lifetime_off_the_list_is_refused_with_the_form_kept(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, "/tokens", {"name": "odd", "scope": "read", "expires_in_days": "3"})
    assert response.status_code == 400
    assert field_error(response.text, "expires_in_days")
    assert 'value="odd"' in response.text


async def test_only_administrators_can_make_admin_tokens(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("ada@example.com") as client:
        page = await client.get("/tokens")
        refused = await submit(client, "/tokens", {"name": "root", "scope": "admin"})
    assert 'value="admin"' not in page.text
    assert refused.status_code == 400 and field_error(refused.text, "scope")
    async with await nova.login("root@example.com") as client:
        assert 'value="admin"' in (await client.get("/tokens")).text
    secret = await create_token_via_ui(nova, "root@example.com", name="root", scope="admin")
    async with nova.client() as client:
        assert (await client.get("/api/v1/admin/users", headers=bearer(secret))).status_code == 200


async def test_each_scope_allows_what_it_says_on_every_api(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    secrets = {scope: await create_token_via_ui(nova, "root@example.com", name=scope, scope=scope)
               for scope in ("read", "write", "admin")}  # fmt: skip
    async with nova.client() as client:
        for scope, secret in secrets.items():
            read = await client.get("/api/v1/threads", headers=bearer(secret))
            write = await client.post("/api/v1/threads", json={"title": scope}, headers=bearer(secret))
            chat = await client.post("/v1/chat/completions", json={}, headers=bearer(secret))
            admin = await client.get("/api/v1/admin/users", headers=bearer(secret))
            assert read.status_code == 200, scope
            assert write.status_code == (403 if scope == "read" else 201), scope
            assert (chat.status_code == 403) == (scope == "read"), scope  # the others: 400, the body is empty
            assert admin.status_code == (200 if scope == "admin" else 403), scope
