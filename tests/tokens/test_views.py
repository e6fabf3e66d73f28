from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts import service as accounts
from app.models import ApiToken, Role
from app.security.tokens import token_hash
from tests.fixtures.factories import make_provider
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova, field_error, submit


async def create_token_via_ui(nova: Nova, email: str, name: str = "laptop", scope: str = "write") -> str:
    async with await nova.login(email) as client:
        response = await submit(client, "/tokens", {"name": name, "scope": scope})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'<code id="new-token"[^>]*>(nova_[A-Za-z0-9_-]+)</code>', response.text)
    assert match, response.text
    return match.group(1)


async def test_token_is_shown_once_and_stored_hashed(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    secret = await create_token_via_ui(nova, "ada@example.com")
    async with await nova.login("ada@example.com") as client:
        listing = await client.get("/tokens")
    async with nova.ctx.db.transaction() as session:
        stored = await session.scalar(select(ApiToken))
    assert stored is not None and stored.token_hash == token_hash(secret)
    assert secret not in listing.text
    assert "laptop" in listing.text
    base = nova.ctx.settings.public_url
    assert all(f"<code>{base}{path}</code>" in listing.text for path in ("/v1", "/mcp", "/metrics"))  # where it works


async def test_bearer_token_reaches_the_api(nova: Nova, llm: ScriptedLLM) -> None:
    await make_provider(nova, None, llm.base_url, name="System")
    await nova.create_user("ada@example.com")
    secret = await create_token_via_ui(nova, "ada@example.com")
    async with nova.client() as client:
        me = await client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
        agents = await client.get("/api/v1/agents", headers={"authorization": f"Bearer {secret}"})
        anonymous = await client.get("/api/v1/me")
        wrong = await client.get("/api/v1/me", headers={"authorization": "Bearer nova_nope"})
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
    assert [a["slug"] for a in agents.json()["data"]] == ["nova"]
    for response in (anonymous, wrong):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


async def test_session_cookie_is_not_accepted_on_the_api(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        response = await client.get("/api/v1/me")
    assert response.status_code == 401


@pytest.mark.both_databases
async def test_revoked_and_suspended_tokens_stop_working(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    user = await nova.create_user("ada@example.com")
    first = await create_token_via_ui(nova, "ada@example.com", "one")
    second = await create_token_via_ui(nova, "ada@example.com", "two")
    async with nova.ctx.db.transaction() as session:
        token = await session.scalar(select(ApiToken).where(ApiToken.name == "one"))
    assert token is not None
    async with await nova.login("ada@example.com") as client:
        await submit(client, f"/tokens/{token.id}/revoke")
    async with nova.client() as client:
        revoked = await client.get("/api/v1/me", headers={"authorization": f"Bearer {first}"})
        alive = await client.get("/api/v1/me", headers={"authorization": f"Bearer {second}"})
        async with nova.ctx.db.transaction() as session:
            await accounts.set_active(session, user.id, active=False)
        suspended = await client.get("/api/v1/me", headers={"authorization": f"Bearer {second}"})
    assert (revoked.status_code, alive.status_code, suspended.status_code) == (401, 200, 401)


async def test_read_scope_cannot_write(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    secret = await create_token_via_ui(nova, "ada@example.com", scope="read")
    async with nova.client() as client:
        read = await client.get("/api/v1/threads", headers={"authorization": f"Bearer {secret}"})
        write = await client.post("/api/v1/threads", headers={"authorization": f"Bearer {secret}"})
    assert read.status_code == 200
    assert write.status_code == 403
    assert write.headers["content-type"] == "application/problem+json"


async def test_api_creates_threads_and_refuses_bad_json(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    secret = await create_token_via_ui(nova, "ada@example.com")
    auth = {"authorization": f"Bearer {secret}"}
    async with nova.client() as client:
        created = await client.post("/api/v1/threads", json={"title": "From a script"}, headers=auth)
        bad = await client.post("/api/v1/threads", content=b"{nope", headers=auth)
        unknown_agent = await client.post("/api/v1/threads", json={"agent": "ghost"}, headers=auth)
        listing = await client.get("/api/v1/threads", headers=auth)
    assert created.status_code == 201 and created.json()["title"] == "From a script"
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert unknown_agent.status_code == 422 and "agent" in unknown_agent.json()["errors"]
    assert [t["id"] for t in listing.json()["data"]] == [created.json()["id"]]


async def test_duplicate_token_name_is_a_field_error(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    await create_token_via_ui(nova, "ada@example.com", "laptop")
    async with await nova.login("ada@example.com") as client:
        response = await submit(client, "/tokens", {"name": "laptop", "scope": "write"})
    assert response.status_code == 400
    assert field_error(response.text, "name") == "You already have a token with this name."
